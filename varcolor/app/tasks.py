"""The work of one job of a run, as typed values: each task is a frozen dataclass holding what it
needs (paths and option values, nothing of the command line), picklable for a Dask worker, called
with no argument; it returns the warnings it met as one line ("" for none), each naming its file,
and what it did worth a note beside them (a :class:`~varcolor.batch.Said`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import sources
from ..batch import Said
from ..cues import Cues
from ..errors import listening, messages
from ..io.layers import is_layered
from ..ir.files import encode_file, read_ir
from ..ir.grid import EncodeOptions
from ..options import Options
from ..sources.base import CuePlan
from .cues import check_cue_share, dense_cues_note
from .solve import automatic, colorize_and_write, prepared, read_checked, read_layered, read_marked_photo

__all__ = ["ColorizeTask", "DecodeTask", "EncodeTask"]


def _noted(work) -> Said:
    """``work()``'s own line (a :class:`~varcolor.batch.Said`: its notes kept apart) after the
    warnings raised meanwhile (reading a file converted its colour profile, say)."""
    with listening() as notes:
        said = work()
    heard = messages(notes)
    if isinstance(said, Said):
        return Said([*heard, *said.parts], notes=said.notes)
    return Said([*heard, said])


@dataclass(frozen=True)
class ColorizeTask:
    """Colorize ``image`` from what its cue source planned."""

    image: Path
    output: Path
    options: Options
    cues: CuePlan | None = None
    bits: int | None = None
    overwrite: bool = False
    max_pixels: int | None = None
    progress: bool = False
    profile: str | None = None
    layer: str | None = None
    strokes_layer: str | None = None
    #: Where the result's confidence map is written (:attr:`varcolor.Result.confidence`), or None.
    confidence_map: Path | None = None

    def __call__(self) -> Said:
        return _noted(self._run)

    def _run(self) -> Said:
        bits, read_with = self.bits, None
        # the user's own cues (a reference's plan matches around them)
        own = self.cues.strokes if self.cues is not None else None
        if own is not None:  # from the headers, before decoding
            own.check()
        if is_layered(self.image):
            gray, strokes, depth, plan = read_layered(
                self.image, self.options, self.max_pixels, self.layer, self.strokes_layer
            )
            bits = bits or depth
            if own is not None and own.path == self.image:  # its own stroke layer, read with its photo
                read_with = strokes
                if strokes is None:  # no stroke layer: no cues of its own
                    own = None
        else:
            # A gray made ahead (a studio's next save) where only the gray is read.
            ahead = None
            # a marked image holds the photo: read with it (:func:`~varcolor.app.solve.read_marked_photo`)
            with_photo = own.photo_file if own is not None else None
            gray_ahead = self.cues is None or self.cues.gray_ahead
            if with_photo is None and gray_ahead and not is_layered(self.output):
                ahead = prepared(self.image, self.options, self.max_pixels)
            if ahead is not None:
                gray, plan = ahead
            elif with_photo is not None and not is_layered(self.output):
                gray, plan, read_with = read_marked_photo(self.image, with_photo, self.options, self.max_pixels)
            else:
                # A colour photo's channels are kept only for a layered output, which shows it.
                colour = is_layered(self.output)
                gray, plan = read_checked(self.image, self.options, self.max_pixels, colour=colour)
        # Empty cues only where there are none: their image-sized ab would be held while marks are read.
        cues: Cues | None = None
        if own is not None:
            cues = own.load(gray, cue_image=read_with)
            read_with = None  # read: its pixels go before the solve
            check_cue_share(own.path, own.source, cues)
        shares = ""
        if self.cues is not None:  # a reference's own cues, not empty ones beside them
            cues, shares = self.cues.match(
                gray, cues, fallback=automatic(self.options), max_memory=self.options.max_memory
            )
        if cues is None:
            cues = Cues.empty(gray.shape[:2])
        # marks scaled, blended edges read as paint; a layered file's strokes are the file's
        named = own.path if own is not None else self.image
        read = f"{named}: {cues.note}" if cues.note else ""
        parts = [
            shares,
            read,
            dense_cues_note(named, cues),
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
