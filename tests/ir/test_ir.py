import dataclasses
import lzma
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import varcolor
from varcolor.errors import InputError
from varcolor.ir.decode import payload_cues
from varcolor.ir.encode import encode, quantize_chroma
from varcolor.ir.format import ENCODERS, IRFormatError, Payload, embed_png, extract_png, read_payload, write_payload

from ..conftest import FUZZ, photo, time_limit

pytestmark = pytest.mark.usefixtures("kernels")  # not a first run's array code (tests/conftest.py)


def sample_payload(palette=False, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    cells = rng.choice(40 * 30, size=50, replace=False)
    points = np.stack([cells // 40, cells % 40], axis=1)
    if palette:
        colours = rng.integers(-100, 100, size=(6, 2))
        ab = colours[rng.integers(0, 6, size=50)]
        return Payload(160, 90, 40, 30, points, ab, "grid", 2, palette=colours)
    return Payload(160, 90, 40, 30, points, rng.integers(-127, 128, size=(50, 2)), "selective", 1)


@pytest.mark.parametrize("palette", [False, True])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(palette, compress):
    original = sample_payload(palette)
    back = read_payload(write_payload(original, compress=compress))
    assert (back.width, back.height, back.grid_width, back.grid_height) == (160, 90, 40, 30)
    assert back.encoder == original.encoder and back.patch == original.patch
    assert np.array_equal(back.points, original.points) and np.array_equal(back.ab, original.ab)


def test_palette_makes_payload_smaller():
    plain = sample_payload(palette=True)
    indexed = write_payload(plain)
    unindexed = write_payload(Payload(160, 90, 40, 30, plain.points, plain.ab, "grid", 2))
    assert len(indexed) < len(unindexed)


def leb128(*values: int) -> bytes:
    out = bytearray()
    for value in values:
        while True:
            out.append((value & 0x7F) | (0x80 if value >> 7 else 0))
            value >>= 7
            if not value:
                break
    return bytes(out)


# The body codecs of docs/vcir.md (flags bits 1-2), written independently of the library.
PACK = {
    0: bytes,
    1: lambda raw: zlib.compress(raw, 9, wbits=-15),
    2: lambda raw: lzma.compress(
        raw,
        format=lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 20, "lc": 0, "lp": 0, "pb": 0}],
    ),
}


def sealed(data: bytes) -> bytes:
    return data + struct.pack("<I", zlib.crc32(data))


def recrc(data: bytes) -> bytes:
    return sealed(data[:-4])


def v2(body: bytes, flags=0, method=3, patch=1, fields=(160, 90, 40, 30, 50), length=None, version=2) -> bytes:
    """A version-2 payload written by hand from docs/vcir.md (``version=3``: the same layout, as
    version 3 writes it without a gray checksum)."""
    size = len(body) if length is None else length
    return sealed(struct.pack("<4sBBBB", b"VCIR", version, flags, method, patch) + leb128(*fields, size) + body)


def stored_body(payload: Payload) -> bytes:
    """The uncompressed body of ``payload``: what follows its header (8 bytes + six varints)."""
    data = write_payload(payload, compress=False)
    fields = leb128(payload.width, payload.height, payload.grid_width, payload.grid_height, payload.count)
    for length_bytes in (1, 2, 3):
        body = data[8 + len(fields) + length_bytes : -4]
        if len(leb128(len(body))) == length_bytes:
            return body
    raise AssertionError("no consistent body length")


def test_layout_matches_the_documented_header():
    payload = sample_payload()
    data = write_payload(payload, compress=False)
    magic, version, flags, method, patch = struct.unpack_from("<4sBBBB", data)
    assert (magic, version, flags, method, patch) == (b"VCIR", 3, 0, 3, 1)
    body = stored_body(payload)
    assert data == v2(body, version=3)
    assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(data[:-4])
    index = payload.points[:, 0] * 40 + payload.points[:, 1]
    assert body == leb128(*np.diff(index, prepend=0).tolist()) + payload.ab.astype(np.int8).tobytes()


@pytest.mark.parametrize("codec", [1, 2])
def test_reads_both_documented_codecs(codec):
    payload = sample_payload()
    raw = stored_body(payload)
    back = read_payload(v2(PACK[codec](raw), flags=codec << 1))
    assert np.array_equal(back.points, payload.points) and np.array_equal(back.ab, payload.ab)


def test_writer_keeps_the_smaller_codec():
    payload = sample_payload(palette=True)
    stored = write_payload(payload, compress=False)
    written = write_payload(payload)
    raw = stored_body(payload)
    smallest = min(
        len(zlib.compress(raw, 9, wbits=-15)),
        len(
            lzma.compress(
                raw,
                format=lzma.FORMAT_RAW,
                filters=[
                    {
                        "id": lzma.FILTER_LZMA1,
                        "preset": 9 | lzma.PRESET_EXTREME,
                        "dict_size": 1 << 20,
                        "lc": 0,
                        "lp": 0,
                        "pb": 0,
                    }
                ],
            )
        ),
    )  # the writer's LZMA settings: the smallest we found
    assert len(written) == len(stored) - len(raw) + smallest - (len(leb128(len(raw))) - len(leb128(smallest)))


def test_reads_version_1_files():
    payload = sample_payload()
    raw = stored_body(payload)
    for flags, body in ((0, raw), (1, zlib.compress(raw))):
        data = sealed(struct.pack("<4sBBBBIIHHII", b"VCIR", 1, flags, 3, 1, 160, 90, 40, 30, 50, len(body)) + body)
        back = read_payload(data)
        assert np.array_equal(back.points, payload.points) and np.array_equal(back.ab, payload.ab)


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda d: d[:7], "truncated"),
        (lambda d: d[:-1], "size mismatch"),
        (lambda d: b"XXXX" + d[4:], "magic"),
        (lambda d: recrc(d[:4] + b"\x04" + d[5:]), "version"),
        (lambda d: recrc(d[:5] + b"\x10" + d[6:]), "flags"),
        (lambda d: d[:-5] + bytes([d[-5] ^ 1]) + d[-4:], "CRC"),
        (lambda d: recrc(d[:6] + b"\x09" + d[7:]), "unknown encoder code 9"),
        (lambda d: v2(stored_body(sample_payload()), fields=(160, 90, 0, 30, 50)), "out of range"),
        (lambda d: v2(stored_body(sample_payload()), fields=(160, 90, 40, 30, 10**6)), "cannot fit"),
        (lambda d: v2(stored_body(sample_payload()), fields=(160, 90, 40, 30, 49)), "junk"),
        (lambda d: d[:8] + b"\xff" * 6, "header field"),
        (lambda d: v2(b"\x00" * 3, flags=2), "does not decompress"),
    ],
)
def test_rejects_damaged_payloads(damage, message):
    data = v2(stored_body(sample_payload()))
    with pytest.raises(IRFormatError, match=message):
        read_payload(damage(data))


@pytest.mark.parametrize("codec", [1, 2])
def test_rejects_a_decompression_bomb(codec):
    bomb = PACK[codec](b"\x01" * 10**6)  # one point's body is at most 7 bytes
    with pytest.raises(IRFormatError, match="larger than"):
        read_payload(v2(bomb, flags=codec << 1, fields=(160, 90, 40, 30, 1)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(data):
    try:
        read_payload(data)
    except IRFormatError:
        pass


@settings(max_examples=400, deadline=None)
@given(
    st.integers(0, 10**6),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_fuzz_mutated_payloads(seed, edits, palette, fix_crc):
    # Mutate valid payloads (every codec) byte by byte, optionally re-sealing the CRC so the parser
    # goes deeper: the only exception allowed out is IRFormatError, and what parses is a valid payload.
    payload = sample_payload(palette, np.random.default_rng(seed))
    with_global = seed % 4 == 0
    if with_global:
        histogram = np.zeros(313)
        histogram[np.random.default_rng(seed).choice(313, 12, replace=False)] = 200
        payload = dataclasses.replace(payload, histogram=histogram, saturation=seed % 256)
    codec = seed % 3
    data = bytearray(
        v2(
            PACK[codec](stored_body(payload)),
            flags=(codec << 1) | palette | 8 * with_global,
            method=ENCODERS.index(payload.encoder),
            patch=payload.patch,
        )
    )
    for position, value in edits:
        data[position % len(data)] = value
    data = bytes(data)
    if fix_crc:
        data = recrc(data)
    try:
        parsed = read_payload(data)
    except IRFormatError:
        return
    assert parsed.points[:, 0].max() < parsed.grid_height and parsed.points[:, 1].max() < parsed.grid_width


def test_embedded_png_is_still_the_gray_image(tmp_path):
    gray = photo("camera", (40, 50))[..., 0]
    varcolor.write_image(tmp_path / "g.png", gray)
    payload = write_payload(sample_payload())
    combined = embed_png((tmp_path / "g.png").read_bytes(), payload)
    (tmp_path / "both.png").write_bytes(combined)
    assert np.array_equal(varcolor.read_image(tmp_path / "both.png"), varcolor.read_image(tmp_path / "g.png"))
    assert extract_png(combined) == payload
    assert extract_png(embed_png(combined, b"new")) == b"new"  # replaced, not duplicated
    assert extract_png((tmp_path / "g.png").read_bytes()) is None


def test_grid_encoder_places_points_and_means():
    rgb = photo("astronaut", (64, 96))
    payload = encode(rgb, "grid", grid_size=32, spacing=8, patch=1)
    assert payload.count == 4 * 4 and (payload.grid_width, payload.grid_height) == (32, 32)
    cues = payload_cues(payload, (64, 96))
    assert cues.count == payload.count * 9
    true_ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    y, x = payload.pixel_positions()[0]
    assert np.allclose(cues.ab[y, x], np.round(true_ab[y - 1 : y + 2, x - 1 : x + 2].mean(axis=(0, 1))))


def test_grid_exclude_drops_flat_cells():
    rgb = np.zeros((64, 64, 3))
    rgb[...] = (0.2, 0.5, 0.8)
    rgb[:, 40:] = (0.9, 0.3, 0.1)
    grid = encode(rgb, "grid", grid_size=64, spacing=16)
    sparse = encode(rgb, "grid-exclude", grid_size=64, spacing=16)
    assert sparse.count < grid.count
    kept_columns = set(sparse.points[:, 1].tolist())
    assert kept_columns == {40}  # only the column of cells straddling the colour edge (x 32..47)


def test_selective_and_quantize_decode_well():
    rgb = photo("coffee", (96, 128))
    gray = varcolor.color.same_lightness_gray(rgb)
    for payload in (
        encode(rgb, "selective", grid_size=96, segments=60),
        encode(rgb, "grid+selective", grid_size=96, spacing=16, segments=40, quantize=8),
    ):
        back = read_payload(write_payload(payload))
        result = varcolor.colorize(gray, payload_cues(back, gray.shape))
        stock = varcolor.metrics.psnr(np.repeat(gray[..., None], 3, axis=2), rgb)
        assert varcolor.metrics.psnr(result.rgb, rgb) > stock + 3
    palette, ab = quantize_chroma(np.array([[1.0, 1.0], [1.2, 0.9], [50, -40], [51, -41]]), 2)
    assert len(palette) == 2 and len(np.unique(ab, axis=0)) == 2


def test_payload_size_mismatch_on_decode():
    with pytest.raises(IRFormatError, match="160×90"):
        payload_cues(sample_payload(), (10, 10))


@pytest.mark.parametrize("method", ["grid", "adaptive", "global"])
@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 40, 3), (40, 1, 3)])
def test_encoding_refuses_what_decoding_could_not_colorize(method, shape):
    rgb = np.full(shape, 0.5)
    rgb[..., 0] = 0.8
    with pytest.raises(varcolor.InputError, match="at least 2×2"):
        varcolor.colorize(rgb[..., 0], varcolor.Cues.from_points([], shape=shape[:2]))
    with pytest.raises(varcolor.InputError, match=f"at least 2×2 pixels, got {shape[1]}×{shape[0]}"):
        encode(rgb, method)


def test_adaptive_respects_the_budget_and_beats_stock():
    rgb = photo("astronaut", (120, 160))
    gray = varcolor.color.same_lightness_gray(rgb)
    stock = varcolor.metrics.psnr(np.repeat(gray[..., None], 3, axis=2), rgb)
    scores = []
    for budget in (150, 400):
        payload = encode(rgb, "adaptive", budget=budget)
        data = write_payload(payload)
        assert len(data) <= budget and payload.encoder == "adaptive"
        decoded = varcolor.colorize(gray, payload_cues(read_payload(data), gray.shape))
        scores.append(varcolor.metrics.psnr(decoded.rgb, rgb))
    assert stock + 3 < scores[0] < scores[1]  # more bytes, better colour


def test_adaptive_with_a_palette_fits_the_budget_with_more_points():
    # 5-bit palette indices instead of two bytes of chroma: more cues in the same bytes.
    rgb = photo("astronaut", (120, 160))
    plain = encode(rgb, "adaptive", budget=400, quantize=0)
    palette = encode(rgb, "adaptive", budget=400)  # the default at small budgets
    data = write_payload(palette)
    assert len(data) <= 400 and palette.palette is not None and len(palette.palette) <= 32
    assert palette.count > plain.count
    decoded = read_payload(data)
    assert {tuple(c) for c in decoded.ab.tolist()} <= {tuple(c) for c in decoded.palette.tolist()}


def test_adaptive_stops_at_a_target_psnr():
    rgb = photo("coffee", (96, 128))
    easy = encode(rgb, "adaptive", budget=400, target_psnr=10.0)
    full = encode(rgb, "adaptive", budget=400)
    assert easy.count < full.count


def test_refined_chroma_is_the_least_squares_optimum():
    # Independent reference: the decode matrix G = A⁻¹B built column by column, then lstsq.
    from varcolor.energies.levin import exact_operator
    from varcolor.ir.adaptive import refine_chroma
    from varcolor.ir.decode import payload_labels
    from varcolor.solvers import DirectSolver

    rgb = photo("coffee", (40, 56))
    gray = varcolor.color.same_lightness_gray(rgb)
    ab = varcolor.color.rgb_to_lab(rgb)[..., 1:]
    rng = np.random.default_rng(3)
    cells = rng.choice(10 * 14, size=7, replace=False)
    payload = Payload(56, 40, 14, 10, np.stack([cells // 14, cells % 14], 1), np.zeros((7, 2)), "adaptive", 1)
    labels = payload_labels(payload)
    solver = DirectSolver(exact_operator(gray, labels >= 0))
    columns = []
    for k in range(7):
        rhs = (labels == k).astype(float)[..., None]
        columns.append(solver.solve(rhs)[0].ravel())
    decode_matrix = np.stack(columns, axis=1)
    best = np.linalg.lstsq(decode_matrix, ab.reshape(-1, 2), rcond=None)[0]
    # CGLS is exact after K steps in exact arithmetic; a few more absorb rounding
    refined = refine_chroma(gray, ab, labels, np.zeros((7, 2)), iterations=12, tol=1e-12)
    np.testing.assert_allclose(refined, best, atol=1e-4)


def test_refinement_lowers_the_decoded_error_within_the_budget():
    rgb = photo("astronaut", (120, 160))
    gray = varcolor.color.same_lightness_gray(rgb)
    scores = []
    for refine in (0, 8):
        payload = encode(rgb, "adaptive", budget=300, refine=refine)
        data = write_payload(payload)
        assert len(data) <= 300
        scores.append(varcolor.metrics.psnr(varcolor.colorize(gray, payload_cues(read_payload(data))).rgb, rgb))
    assert scores[1] > scores[0] + 0.5


def test_direct_solver_solves_the_transposed_system():
    from varcolor.energies.levin import exact_operator
    from varcolor.solvers import DirectSolver

    rng = np.random.default_rng(0)
    operator = exact_operator(rng.random((9, 11)), rng.random((9, 11)) < 0.1)
    rhs = rng.standard_normal((9, 11, 2))
    x, info = DirectSolver(operator, tol=1e-12).solve(rhs, transpose=True)
    np.testing.assert_allclose(operator.to_csr().T @ x.reshape(-1, 2), rhs.reshape(-1, 2), atol=1e-9)
    assert info.residual <= 1e-12


def global_payload(count=0):
    histogram = np.zeros(313)
    histogram[[0, 150, 312]] = (255, 7, 1)
    points = [[k, k] for k in range(count)]
    return Payload(160, 90, 40, 30, points, [[5, -5]] * count, "global", 0, histogram=histogram, saturation=77)


@pytest.mark.parametrize("count", [0, 3])
@pytest.mark.parametrize("compress", [False, True])
def test_global_block_round_trip(count, compress):
    back = read_payload(write_payload(global_payload(count), compress=compress))
    assert back.encoder == "global" and back.count == count and back.saturation == 77
    assert np.flatnonzero(back.histogram).tolist() == [0, 150, 312]
    hints = back.global_hints()
    assert hints.histogram.sum() == pytest.approx(1.0) and hints.histogram[0] == pytest.approx(255 / 263)
    assert hints.saturation == pytest.approx(77 / 255) and sample_payload().global_hints() is None


@pytest.mark.parametrize(
    "block,message",
    [
        (leb128(0) + bytes([9]), "global bins are missing"),
        (leb128(2, 5, 0) + bytes([1, 1, 9]), "repeated"),
        (leb128(1, 313) + bytes([1, 9]), "global bin index is out of range"),
        (leb128(1, 5) + bytes([0, 9]), "weight is 0"),
        (leb128(2, 5, 1) + bytes([1]), "truncated"),
        (leb128(1, 5) + bytes([3, 9, 9]), "junk"),
    ],
)
def test_rejects_damaged_global_blocks(block, message):
    data = v2(block, flags=8, method=5, patch=0, fields=(160, 90, 40, 30, 0))
    with pytest.raises(IRFormatError, match=message):
        read_payload(data)


def test_global_encoder_stores_the_image_statistics():
    from varcolor.gamut import GlobalHints

    rgb = photo("astronaut", (60, 80))
    payload = encode(rgb, "global")
    data = write_payload(payload)
    assert payload.count == 0 and len(data) < 120
    stored, true = read_payload(data).global_hints(), GlobalHints.from_rgb(rgb)
    assert np.abs(stored.histogram - true.histogram).sum() < 0.05  # 8-bit weights
    assert abs(stored.saturation - true.saturation) <= 0.5 / 255


def test_global_payloads_fit_in_100_bytes_by_dropping_the_rarest_colours():
    from varcolor.ir.encode import GLOBAL_BYTES
    from varcolor.ir.format import write_payload

    rgb = np.random.default_rng(0).random((64, 64, 3))  # every colour: hundreds of bins
    histogram = varcolor.gamut.ab_histogram(varcolor.color.rgb_to_lab(rgb)[..., 1:])
    payload = encode(rgb, "global")
    kept = payload.histogram > 0
    assert len(write_payload(payload)) <= GLOBAL_BYTES < np.count_nonzero(histogram)
    # What is dropped is rarer than anything kept, and the largest bin is kept.
    assert histogram[~kept].max() <= histogram[kept].min() and kept[np.argmax(histogram)]
    # A photo whose histogram fits keeps every bin.
    import skimage.data

    photo = skimage.data.astronaut()[::4, ::4] / 255.0
    whole = encode(photo, "global")
    photo_bins = varcolor.gamut.ab_histogram(varcolor.color.rgb_to_lab(photo)[..., 1:])
    assert len(write_payload(whole)) < GLOBAL_BYTES
    assert np.count_nonzero(whole.histogram) == np.count_nonzero(np.round(255 * photo_bins / photo_bins.max()))


# --- a payload is tied to its gray image (issue 36) ---


def test_version_3_layout_stores_the_gray_checksum_after_the_header():
    import hashlib

    gray = photo("coffee", (90, 160))[..., 0]
    payload = dataclasses.replace(sample_payload(), checksum=varcolor.ir.format.gray_checksum(gray))
    # The checksum as docs/vcir.md defines it, computed here independently of the library.
    samples = np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8).tobytes()
    expected = int.from_bytes(hashlib.blake2b(samples, digest_size=4).digest(), "little")
    assert payload.checksum == expected
    data = write_payload(payload, compress=False)
    body = stored_body(sample_payload())
    header = struct.pack("<4sBBBB", b"VCIR", 3, 0x10, 3, 1) + leb128(160, 90, 40, 30, 50, len(body))
    assert data == sealed(header + struct.pack("<I", expected) + body)
    back = read_payload(data)
    assert back.checksum == expected and np.array_equal(back.ab, payload.ab)
    assert read_payload(write_payload(payload)).checksum == expected  # compressed too
    # The checksum flag is unknown to version 2, and a checksum cut short is refused.
    with pytest.raises(IRFormatError, match="flags"):
        read_payload(v2(body, flags=0x10))
    with pytest.raises(IRFormatError, match="checksum|size mismatch"):
        read_payload(sealed(struct.pack("<4sBBBB", b"VCIR", 3, 0x10, 3, 1) + leb128(160, 90, 40, 30, 50, 0) + b"\1"))


def test_a_payload_decodes_with_its_own_gray_only():
    from varcolor.ir.format import gray_checksum

    rgb, other = photo("astronaut", (48, 64)), photo("coffee", (48, 64))
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    payload = read_payload(write_payload(encode(rgb, "grid", grid_size=16, spacing=2, gray=gray)))
    assert payload.checksum == gray_checksum(gray)
    assert payload_cues(payload, gray=gray).count > 0
    assert payload_cues(payload, gray=np.round(gray * 65535) / 65535).count > 0  # the same image at 16 bits
    assert payload_cues(payload, gray=np.repeat(gray[..., None], 3, axis=2)).count > 0  # saved as RGB
    for foreign in (varcolor.color.same_lightness_gray(other), np.clip(gray + (np.arange(64) == 5) / 255, 0, 1)):
        with pytest.raises(InputError, match="belongs to another gray image"):
            payload_cues(payload, gray=foreign)
    # A version-2 payload (no checksum) still decodes, checked for its size only.
    old = read_payload(v2(stored_body(sample_payload())))
    # issue 94, item 9: it decoded beside any gray image of its size with no word
    with pytest.warns(UserWarning, match="records no checksum of its gray image"):
        assert old.checksum is None and payload_cues(old, gray=np.zeros((90, 160))).count > 0
    with pytest.raises(IRFormatError, match="160×90"):
        payload_cues(old, gray=np.zeros((48, 64)))


def test_encoders_tie_payloads_to_the_gray_within_their_budgets():
    from varcolor.ir.encode import GLOBAL_BYTES

    rgb = np.random.default_rng(0).random((64, 64, 3))  # every colour: the global block must be cut
    gray = np.round(varcolor.color.same_lightness_gray(rgb) * 255) / 255
    tied = encode(rgb, "global", gray=gray)
    assert tied.checksum is not None and len(write_payload(tied)) <= GLOBAL_BYTES
    adaptive = encode(photo("astronaut", (64, 96)), "adaptive", budget=200, gray=gray[:, :1].repeat(96, 1))
    assert adaptive.checksum is not None and len(write_payload(adaptive)) <= 200


@pytest.mark.parametrize("embed", [False, True])
def test_decode_refuses_a_payload_from_another_image_of_the_same_size(tmp_path, capsys, embed):
    from ..conftest import run

    for name, image in (("a", "astronaut"), ("b", "coffee")):
        varcolor.write_image(tmp_path / f"{name}.png", photo(image, (48, 64)))
        flags = ["--embed"] if embed else []
        assert run(capsys, "encode", tmp_path / f"{name}.png", "-o", tmp_path / "ir", "-e", "grid", *flags)[0] == 0
    if embed:  # b's payload inside a's gray PNG
        a_png = (tmp_path / "ir" / "a.png").read_bytes()
        b_payload = extract_png((tmp_path / "ir" / "b.png").read_bytes())
        (tmp_path / "ir" / "a.png").write_bytes(embed_png(a_png, b_payload))
    else:
        (tmp_path / "ir" / "a.vcir").write_bytes((tmp_path / "ir" / "b.vcir").read_bytes())
    code, _, err = run(capsys, "decode", tmp_path / "ir" / "a.png", "-o", tmp_path / "a.png.out.png")
    assert code == 2 and err.count("\n") == 1 and "a.png" in err and "another gray image" in err
    assert not (tmp_path / "a.png.out.png").exists()
    code, _, err = run(capsys, "decode", tmp_path / "ir" / "b.png", "-o", tmp_path / "b.out.png")
    assert code == 0 and (tmp_path / "b.out.png").is_file()
    # The gray stored at 16 bits decodes with its payload too.
    assert run(capsys, "encode", tmp_path / "a.png", "-o", tmp_path / "ir16", "-e", "grid", "--bits", "16")[0] == 0
    assert run(capsys, "decode", tmp_path / "ir16" / "a.png", "-o", tmp_path / "a16.png")[0] == 0


def test_compressed_payloads_are_written_by_python_3_10s_zlib(monkeypatch):
    """Python 3.10 (the oldest the package supports) has ``zlib.compress(data, level)`` with no
    ``wbits``: a compressed payload is made there too, and is the raw deflate stream it was."""
    payload = sample_payload(palette=False, rng=np.random.default_rng(3))
    expected = write_payload(payload, compress=True)
    real = zlib.compress
    monkeypatch.setattr(zlib, "compress", lambda data, level=-1, /: real(data, level))
    assert write_payload(payload, compress=True) == expected


gray_images = st.tuples(st.integers(2, 12), st.integers(2, 12), st.integers(0, 2**32 - 1)).map(
    lambda t: np.round(np.random.default_rng(t[2]).random((t[0], t[1])) * 255) / 255
)


@FUZZ
@given(
    gray=gray_images,
    other_seed=st.integers(0, 2**32 - 1),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([-2, -1, 1, 2, 100])), min_size=1, max_size=4),
    bits=st.sampled_from([8, 16]),
)
def test_a_payload_never_decodes_with_a_foreign_gray(gray, other_seed, edits, bits):
    from varcolor.ir.decode import payload_cues
    from varcolor.ir.encode import encode
    from varcolor.ir.format import read_payload, write_payload

    rgb = np.repeat(gray[..., None], 3, axis=2) * np.array([1.0, 0.9, 0.8])
    payload = read_payload(write_payload(encode(rgb, "grid", grid_size=4, spacing=1, gray=gray)))
    stored = np.round(gray * (2**bits - 1)) / (2**bits - 1)
    assert payload_cues(payload, gray=stored).count > 0  # its own gray, at 8 or 16 bits
    edited = gray.copy()
    for offset, levels in edits:  # one level or more at a few pixels
        y, x = divmod(offset % gray.size, gray.shape[1])
        edited[y, x] = np.clip(edited[y, x] + levels / 255, 0, 1)
    other = np.round(np.random.default_rng(other_seed).random(gray.shape) * 255) / 255
    for foreign in (edited, other):
        if np.array_equal(np.round(foreign * 255), np.round(gray * 255)):
            continue  # an edit clipped away: the same image
        try:
            payload_cues(payload, gray=foreign)
        except InputError as exc:
            assert "belongs to another gray image" in str(exc)
        else:
            raise AssertionError("a payload decoded with a gray image it was not made for")


def _cells(rng, grid_height, grid_width, count):
    cells = rng.permutation(grid_height * grid_width)[:count]
    return np.stack([cells // grid_width, cells % grid_width], axis=1)


def test_payload_labels_paint_as_square_after_square_and_in_time_for_any_radius():
    from varcolor.ir.decode import payload_labels
    from varcolor.ir.format import Payload

    rng = np.random.default_rng(46)
    for _ in range(60):  # against the definition: square after square, later points on top
        width, height = (int(v) for v in rng.integers(1, 30, 2))
        grid = (int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1)))
        points = _cells(rng, *grid, int(rng.integers(0, 40)))
        payload = Payload(
            width, height, grid[1], grid[0], points=points, ab=np.zeros((len(points), 2)), patch=int(rng.integers(0, 9))
        )
        expected = np.full((height, width), -1)
        r = payload.patch
        for k, (y, x) in enumerate(payload.pixel_positions()):
            expected[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1] = k
        assert np.array_equal(payload_labels(payload), expected)
    # A hand-made payload of a point per pixel at the largest radius: painted square by square,
    # 160 000 squares of 400×400 (minutes); in O(pixels), well under a second.
    points = _cells(rng, 400, 400, 400 * 400)
    payload = Payload(400, 400, 400, 400, points=points, ab=np.zeros((len(points), 2)), patch=255)
    with time_limit(10):
        labels = payload_labels(payload)
    assert labels.min() >= 0 and labels.max() == len(points) - 1
