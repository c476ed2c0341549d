"""The work of one job of a run, as typed values: each task is a frozen dataclass holding what it
needs (paths and option values, nothing of the command line), picklable for a Dask worker, called
with no argument; it returns the warnings it met as one line ("" for none), each naming its file,
and what it did worth a note beside them (a :class:`~varcolor.batch.Said`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import sources
from ..batch import Said
from ..cues import Cues
from ..io import image_shape
from ..io.layers import is_layered
from ..ir.files import encode_file, read_ir
from ..ir.grid import EncodeOptions
from ..options import Options
from ..sources.base import EDGES_DEFAULT
from .cues import check_cue_share, dense_cues_note
from .reference import UNMATCHED, Unmatched, pool_cues, reference_cues
from .solve import automatic, colorize_and_write, prepared, read_checked, read_layered, read_marked_photo

__all__ = ["ColorizeTask", "DecodeTask", "EncodeTask"]


def _noted(work) -> Said:
    """``work()``'s own line (a :class:`~varcolor.batch.Said`: its notes kept apart) after the
    warnings raised meanwhile (reading a file converted its colour profile, say), in the order
    they came."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        said = work()
    heard = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if isinstance(said, Said):
        return Said([*heard, *said.parts], notes=said.notes)
    return Said([*heard, said])


@dataclass(frozen=True)
class ColorizeTask:
    """Colorize ``image`` from the cue file ``cue_file`` (of ``kind``; None: no cues, for the
    network, or a layered file's stroke layer) into ``output``. ``layer``, ``strokes_layer``: a
    layered file's photo and stroke layers by name (None: by place); ``reference``: a colour photo
    of the same scene whose matches are cues too, or a pool of them (a tuple, with their
    ``signatures``: the best-matching are used, :func:`~varcolor.reference.match_pool`)."""

    image: Path
    output: Path
    options: Options
    kind: str | None = None
    cue_file: Path | None = None
    bits: int | None = None
    overwrite: bool = False
    max_pixels: int | None = None
    progress: bool = False
    profile: str | None = None
    layer: str | None = None
    strokes_layer: str | None = None
    edges: str = EDGES_DEFAULT
    reference: Path | tuple[Path, ...] | None = None
    signatures: tuple | None = None
    #: A chain's photo (:mod:`~varcolor.app.chain`): a pool that matches nothing is no error of the
    #: run's input but this photo left out (:data:`~varcolor.app.reference.UNMATCHED`).
    chained: bool = False
    #: Where the result's confidence map is written (:attr:`varcolor.Result.confidence`), or None.
    confidence_map: Path | None = None
    #: A chain's pool: each photo's confidence map (None: its colour taken as known everywhere),
    #: so that only the colour a photo is confident of is passed on (:func:`~varcolor.app.reference.pool_cues`).
    pool_known: tuple[Path | None, ...] | None = None

    def __call__(self) -> Said:
        return _noted(self._run)

    def _run(self) -> Said:
        bits, strokes, marked = self.bits, None, None
        source = sources.get(self.kind) if self.kind is not None else None
        if source is not None and self.cue_file is not None:  # from the headers, before decoding
            shape = image_shape(self.image, max_pixels=self.max_pixels) if source.sized else None
            source.check(self.cue_file, self.image, shape, self.max_pixels)
        if is_layered(self.image):
            gray, strokes, depth, plan = read_layered(
                self.image, self.options, self.max_pixels, self.layer, self.strokes_layer
            )
            bits = bits or depth
        else:
            # A gray made ahead (a studio's next save) where only the gray is read: a mask or
            # points, no reference, a flat output (a layered one shows the photo as read).
            ahead = None
            # a marked image holds the photo: read with it (:func:`~varcolor.app.solve.read_marked_photo`)
            with_photo = self.cue_file if source is not None and source.holds_photo else None
            if with_photo is None and self.reference is None and not is_layered(self.output):
                ahead = prepared(self.image, self.options, self.max_pixels)
            if ahead is not None:
                gray, plan = ahead
            elif with_photo is not None and not is_layered(self.output):
                gray, plan, marked = read_marked_photo(self.image, with_photo, self.options, self.max_pixels)
            else:
                # A colour photo's channels are kept only for a layered output, which shows it.
                colour = is_layered(self.output)
                gray, plan = read_checked(self.image, self.options, self.max_pixels, colour=colour)
        # Empty cues only where there are none: at 40 MP their ab alone is 0.64 GB, held while marks are read.
        if self.cue_file is None and strokes is not None:
            cues = sources.get("layered").load(self.image, gray, edges=self.edges, cue_image=strokes, checked=True)
            check_cue_share(self.image, "layered", cues)
        elif source is not None and self.cue_file is not None:
            cues = source.load(
                self.cue_file,
                gray,
                image=self.image,
                max_pixels=self.max_pixels,
                edges=self.edges,
                cue_image=marked,
                checked=True,  # above, from the headers
            )
            marked = None  # read: its 0.48 GB of a 40 MP scan go before the solve
            check_cue_share(self.cue_file, source.name, cues)
        elif self.reference is None:
            cues = Cues.empty(gray.shape[:2])
        else:  # the reference's own cues, not empty ones beside them: 0.68 GB less at 40 MP
            cues = None
        shares = ""
        if isinstance(self.reference, tuple):
            cues, shares = pool_cues(
                self.image,
                self.reference,
                self.signatures,
                gray,
                cues,
                self.max_pixels,
                automatic(self.options),
                refuse=not self.chained,
                max_memory=self.options.max_memory,
                known=self.pool_known,
            )
            if self.chained and not cues.count:
                raise Unmatched(f"{self.image}: {UNMATCHED}")
        elif self.reference is not None:
            cues = reference_cues(
                self.image,
                self.reference,
                gray,
                cues,
                self.max_pixels,
                automatic(self.options),
                self.options.max_memory,
            )
        assert cues is not None  # the reference's cues, made just above
        # marks scaled, blended edges read as paint; a layered file's strokes are the file's
        read = f"{self.cue_file or self.image}: {cues.note}" if cues.note else ""
        parts = [
            shares,
            read,
            dense_cues_note(self.cue_file or self.image, cues),
            colorize_and_write(
                self.image,
                gray,
                cues,
                self.output,
                self.options,
                bits=bits,
                profile=self.profile,
                overwrite=self.overwrite,
                progress=self.progress,
                plan=plan,
                confidence=self.confidence_map,
            ),
        ]
        return Said(parts, notes=[shares, read])  # what was done, not warnings


@dataclass(frozen=True)
class DecodeTask:
    """Decode the IR ``gray_path`` (its payload beside it or inside it) into ``output``."""

    gray_path: Path
    output: Path
    options: Options
    bits: int | None = None
    overwrite: bool = False
    max_pixels: int | None = None
    profile: str | None = None

    def __call__(self) -> str:
        return _noted(self._run)

    def _run(self) -> str:
        payload = read_ir(self.gray_path)
        gray, plan = read_checked(self.gray_path, self.options, self.max_pixels, colour=is_layered(self.output))
        cues = sources.get("ir").load(self.gray_path, gray, cue_image=payload, checked=True)
        return colorize_and_write(
            self.gray_path,
            gray,
            cues,
            self.output,
            self.options,
            bits=self.bits,
            profile=self.profile,
            overwrite=self.overwrite,
            global_hints=payload.global_hints(),
            plan=plan,
        )


@dataclass(frozen=True)
class EncodeTask:
    """Encode the colour image ``source`` as the IR ``gray_path`` (``files``: the keywords of
    :func:`~varcolor.ir.files.encode_file` besides the options)."""

    source: Path
    gray_path: Path
    options: EncodeOptions | None
    files: dict = field(default_factory=dict)

    def __call__(self) -> str:
        def work() -> str:
            encode_file(self.source, self.gray_path, options=self.options, **self.files)
            return ""

        return _noted(work)
