"""EncodeOptions: the one value of the IR encoder's options, which encode, encode_file and the
command line (encode, recolor) take."""

import dataclasses

import numpy as np
import pytest
import skimage.data

import varcolor
from varcolor.cli import build_parser
from varcolor.cli.ir import ENCODER, encode_options_of
from varcolor.ir.encode import ENCODERS, EncodeOptions, check_encode_options, encode
from varcolor.ir.files import encode_file, read_ir
from varcolor.ir.format import write_payload


def small_photo():
    return skimage.data.astronaut()[::8, ::8] / 255.0  # 64×64


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"encoder": "nope"}, f"unknown encoder 'nope'; available: {', '.join(ENCODERS)}"),
        ({"grid_size": 0}, "grid_size must be at least 1, got 0"),
        ({"spacing": -2}, "spacing must be at least 1, got -2"),
        ({"patch": 256}, "patch must be in 0..255 (a radius in pixels), got 256"),
        ({"patch": -1}, "patch must be in 0..255 (a radius in pixels), got -1"),
        ({"segments": 0}, "segments must be at least 1, got 0"),
        ({"quantize": 257}, "quantize takes 1..256 colours (0: no palette), got 257"),
        ({"encoder": "adaptive", "budget": 63}, "budget must be at least 64 bytes, got 63"),
        ({"refine": -1}, "refine takes a number of iterations >= 0, got -1"),
        ({"spacings": 8}, "unknown encoder option 'spacings'"),
    ],
)
def test_bad_options_are_refused_with_one_line_by_every_entry(keywords, message):
    for make in (
        lambda: EncodeOptions.build(**keywords),
        lambda: check_encode_options(**keywords),
        lambda: encode(np.full((8, 8, 3), 0.5), **keywords),
    ):
        with pytest.raises(varcolor.InputError) as info:
            make()
        assert str(info.value).startswith(message)
    if "spacings" not in keywords:  # a field: refused when the value is made, and when it is changed
        with pytest.raises(varcolor.InputError):
            EncodeOptions(**keywords)
        with pytest.raises(varcolor.InputError):
            dataclasses.replace(EncodeOptions(encoder=keywords.get("encoder", "grid")), **keywords)


def test_values_only_some_encoders_read_are_not_refused_for_the_others():
    assert EncodeOptions(encoder="grid", budget=10).budget == 10  # only adaptive reads the budget
    assert EncodeOptions(quantize=0).quantize == 0  # 0: no palette


def test_options_as_one_value_or_as_keywords_encode_the_same():
    rgb = small_photo()
    for method, keywords in [
        ("grid", {"grid_size": 32, "spacing": 4, "patch": 1}),
        ("grid+selective", {"grid_size": 48, "spacing": 8, "segments": 20, "quantize": 8}),
        ("adaptive", {"budget": 200, "refine": 1}),
    ]:
        expected = write_payload(encode(rgb, method, **keywords))
        options = EncodeOptions(encoder=method, **keywords)
        assert write_payload(encode(rgb, options=options)) == expected
        # method and keywords change a given value
        base = EncodeOptions(encoder="stock", spacing=2)
        assert write_payload(encode(rgb, method, options=base, **{"spacing": 16, **keywords})) == expected
    assert encode(rgb).encoder == "grid"  # the default encoder of the library


def test_encode_file_takes_the_options_value(tmp_path):
    varcolor.write_image(tmp_path / "photo.png", small_photo())
    options = EncodeOptions(encoder="grid", grid_size=32, spacing=8)
    payload = encode_file(tmp_path / "photo.png", tmp_path / "ir" / "a.png", options=options)
    assert (payload.encoder, payload.count) == ("grid", 16) and read_ir(tmp_path / "ir" / "a.png").count == 16
    by_name = encode_file(tmp_path / "photo.png", tmp_path / "ir" / "b.png", encoder="grid", grid_size=32, spacing=8)
    assert write_payload(by_name) == write_payload(payload)
    default = encode_file(tmp_path / "photo.png", tmp_path / "ir" / "c.png", budget=128)
    assert default.encoder == "adaptive"  # encode_file's default encoder, as the command line's
    with pytest.raises(varcolor.InputError, match="spacing must be"):  # before the image is read
        encode_file(tmp_path / "missing.png", tmp_path / "ir" / "d.png", spacing=0)


@pytest.mark.parametrize("command", ["encode", "recolor"])
def test_every_encoder_option_is_a_flag_with_the_field_default(command):
    parse = build_parser().parse_args
    args = parse([command, "photo.png", "-o", "out"])
    assert encode_options_of(args) == EncodeOptions(encoder=ENCODER)
    for spec in dataclasses.fields(EncodeOptions):
        if spec.name != "encoder":
            assert getattr(args, spec.name) == spec.default, spec.name
    argv = ["-e", "grid", "-s", "64", "-g", "4", "-p", "2", "--segments", "30", "--quantize", "16"]
    argv += ["--budget", "300", "--target-psnr", "31.5", "--refine", "0"]
    args = parse([command, "photo.png", "-o", "out", *argv])
    expected = EncodeOptions("grid", 64, 4, 2, 30, 16, 300, 31.5, 0)
    assert encode_options_of(args) == expected


def test_method_is_no_name_of_the_encoder(tmp_path):
    # one name per idea: an IR's encoder is ``encoder``; ``method`` is the colorization method only
    with pytest.raises(TypeError, match="method"):
        EncodeOptions(method="selective")
    for make in (
        lambda: EncodeOptions.build(method="adaptive"),
        lambda: check_encode_options(method="stock"),
        lambda: encode(small_photo(), method="selective"),
    ):
        with pytest.raises(varcolor.InputError, match="unknown encoder option 'method'"):
            make()
    assert not hasattr(encode(small_photo(), "grid", grid_size=16), "method")


def test_an_irs_gray_is_compressed_for_storage_not_at_the_results_fast_level(tmp_path):
    """Results are written at zlib level 3 (speed); an IR's gray, kept by the hundred thousand, at
    level 6: zlib's header says which (FLEVEL 2 for level 6, 1 for levels 2 to 5)."""
    varcolor.write_image(tmp_path / "photo.png", small_photo())
    encode_file(tmp_path / "photo.png", tmp_path / "ir" / "a.png", encoder="grid", grid_size=32, spacing=8)
    data = (tmp_path / "ir" / "a.png").read_bytes()
    assert data[data.index(b"IDAT") + 5] >> 6 == 2
