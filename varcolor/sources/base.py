"""What a cue source is (:class:`CueSource`): a kind of input that colour cues are read from, able
to say what it reads, check it cheaply before any heavy work, and make :class:`~varcolor.Cues`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import numpy as np

from ..cues import Cues, same_aspect
from ..errors import InputError, listening, messages, tell
from ..io import JPEG_EXTENSIONS, image_shape, read_image
from ..reading.marks import EDGES_DEFAULT
from ..registry import Registry

#: Marks drawn at another size may be this many times the photo's side (an editor's 2×, 4×) ...
MARKS_LARGER = 4
#: ... or, whatever the photo's size, this many pixels (a small photo's marks drawn large).
MARKS_PIXELS_ANYWAY = 1 << 22

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CueSource", "CuePlan", "ImageSource", "EDGES_DEFAULT", "REGISTRY"]


class ReadContext(TypedDict, total=False):
    """What :meth:`CueSource.read` is given beside the file and the gray, each key optional: one
    place for the keywords every source's reader takes, a plug-in's ``**context``.

    Attributes
    ----------
    max_pixels : int or None
        The run's pixel limit (default None).
    edges : str
        How strokes' edges are read (:data:`~varcolor.cues.EDGES`; default ``EDGES_DEFAULT``).
    cue_image : Any
        The file read already (default None: read it).
    """

    max_pixels: int | None
    edges: str
    cue_image: Any


class CueSource:
    """A kind of cue input: its name, what it reads, its cheap checks and its reader.

    Subclasses set the class attributes and override :meth:`read` (and :meth:`check` where the
    input can be refused from a few bytes), then register (:func:`varcolor.sources.register`, or
    the ``varcolor.sources`` entry-point group).

    Attributes
    ----------
    name : str
        The source's name: the kind a run is told (``cues="marked"``), its flag ``--NAME``.
    summary : str
        One line: what it reads.
    suffixes : tuple of str
        How its file is named beside a photo ``X.png`` (``_marked.png``: ``X_marked.png``), the
        first the one a file is written under; none: never found by name.
    help : str
        The command line's help for its flag.
    metavar : str
        The flag's value in ``--help``.
    edges : bool
        Whether ``edges`` (how strokes' edges are read) means anything to it.
    sized : bool
        Whether its file has a size in pixels that must fit the photo's: :meth:`check` is then
        given the photo's shape (read from its header), else None.
    holds_photo : bool
        Whether its file holds the photo under the cues (a marked image): a run may read the
        photo's gray and the cues together.
    all_cues_hint : str
        Said when every pixel is a cue (what the file may be instead).
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()
    help: ClassVar[str] = ""
    metavar: ClassVar[str] = "FILE"
    edges: ClassVar[bool] = False
    sized: ClassVar[bool] = False
    holds_photo: ClassVar[bool] = False
    all_cues_hint: ClassVar[str] = ""

    @classmethod
    def flag(cls) -> str:
        """The command line's flag: ``--NAME``."""
        return "--" + cls.name.replace("_", "-")

    @classmethod
    def names_file(cls, path: Path) -> bool:
        """Whether ``path`` is named as this source's file beside a photo (its :attr:`suffixes`).

        Parameters
        ----------
        path : Path
            The file (only its name is read, its case ignored).
        """
        return bool(cls.suffixes) and path.name.lower().endswith(cls.suffixes)

    @classmethod
    def plan(
        cls, path: str | Path, image: Path, *, max_pixels: int | None = None, edges: str = EDGES_DEFAULT, **given: Any
    ) -> CuePlan:
        """What this source makes of its file ``path`` for the photo ``image``: a picklable
        :class:`CuePlan` that a run's job holds, checked and loaded there.

        Parameters
        ----------
        path : path
            The source's file (a layered file's: the photo itself).
        image : Path
            The photo the cues are for.
        max_pixels : int or None
            The run's pixel limit.
        edges : str
            How strokes' edges are read (:data:`~varcolor.cues.EDGES`).
        **given
            What else a source takes (a reference's pool); none for this one.
        """
        if given:
            raise TypeError(f"cue source {cls.name!r} takes no {', '.join(sorted(given))}")
        return CuePlan(cls.name, image, Path(path), max_pixels, edges)

    @classmethod
    def check(cls, path: Path, image: Path, shape: tuple[int, int] | None, max_pixels: int | None) -> None:
        """Refuse, from a few bytes (a header, a size), a file that cannot give cues for the photo
        ``image`` of ``shape`` (``(H, W)``, upright): called once per photo before it is read.
        The default checks nothing.

        Parameters
        ----------
        path : Path
            The source's file.
        image : Path
            The photo (named in messages).
        shape : tuple of int or None
            The photo's ``(H, W)`` (None: not read, for a source that is not :attr:`sized`).
        max_pixels : int or None
            The run's pixel limit.
        """

    @classmethod
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The cues of ``path`` for the photo whose gray is ``gray``.

        Parameters
        ----------
        path : Path
            The source's file.
        gray : ndarray
            The photo's gray, ``H×W`` in [0, 1] (its size is the cues').
        **context
            The keywords of :class:`ReadContext`, each optional: ``max_pixels`` (int or None, the
            run's pixel limit), ``edges`` (str, how strokes' edges are read, for sources that have
            them), ``cue_image`` (the file read already: a marked image's pixels read with its
            photo, an IR's payload).
        """
        raise NotImplementedError(f"cue source {cls.name!r} has no reader")

    @classmethod
    def load(
        cls,
        path: str | Path,
        gray: np.ndarray,
        *,
        image: Path | None = None,
        max_pixels: int | None = None,
        edges: str = EDGES_DEFAULT,
        cue_image: Any = None,
        checked: bool = False,
    ) -> Cues:
        """:meth:`check` (unless ``checked``) and :meth:`read`, each message naming the file: an
        :class:`~varcolor.errors.InputError` one line, what was taken for noise a ``UserWarning``.

        Parameters
        ----------
        path : path
            The source's file.
        gray : ndarray
            The photo's gray, ``H×W`` in [0, 1].
        image : Path, optional
            The photo's file (named in messages; default ``path``).
        max_pixels, edges, cue_image
            As :meth:`read` takes them.
        checked : bool
            :meth:`check` was called already for this photo.
        """
        path = Path(path)
        shape = gray.shape[:2]
        if not checked:
            cls.check(path, image if image is not None else path, shape, max_pixels)
        plug_in = not cls.__module__.startswith("varcolor.")
        try:
            with listening() as heard:
                cues = cls.read(path, gray, max_pixels=max_pixels, edges=edges, cue_image=cue_image)
        except InputError as exc:
            message = str(exc)
            raise InputError(message if message.startswith(str(path)) else f"{path}: {message}") from None
        except Exception as exc:
            if not plug_in:
                raise  # a fault of varcolor's own: its traceback is the report
            # A plug-in's fault is that photo's, in one line: a folder run goes on past it.
            failed = f"{type(exc).__name__}: {exc}"
            raise InputError(f"{path}: the cue source plug-in {cls.name!r} failed: {failed}") from None
        if plug_in and not (isinstance(cues, Cues) and cues.shape == shape):
            what = f"cues of size {cues.shape}" if isinstance(cues, Cues) else f"a {type(cues).__name__}"
            raise InputError(
                f"{path}: the cue source plug-in {cls.name!r} returned {what}, not varcolor.Cues of the photo's size "
                f"{shape}"
            )
        for message in messages(heard):  # noise taken for no stroke; one naming the file already, as it is
            tell(message if message.startswith(str(path)) else f"{path}: {message}", UserWarning, stacklevel=2)
        return cues


#: The cue sources, built-in and plug-in (:class:`varcolor.registry.Registry`); asked through
#: :mod:`varcolor.sources.lookup`, and here by a plan for its source.
REGISTRY: Registry[CueSource] = Registry(
    "cue source", CueSource, "varcolor.sources", base_label="varcolor.sources.CueSource"
)


@dataclass(frozen=True)
class CuePlan:
    """One photo's cues as its source planned them (:meth:`CueSource.plan`): picklable (a job on a
    Dask worker holds it), made once when a run is planned; :meth:`check` refuses the source's file
    from its header before the photo is decoded, :meth:`load` makes the cues from the photo's gray.

    Attributes
    ----------
    source : str
        The source's name in the registry (:mod:`varcolor.sources`).
    image : Path
        The photo the cues are for.
    path : Path
        The source's file (a layered file's strokes: the photo itself).
    max_pixels : int or None
        The run's pixel limit.
    edges : str
        How strokes' edges are read (:data:`~varcolor.cues.EDGES`).
    """

    source: str
    image: Path
    path: Path
    max_pixels: int | None = None
    edges: str = EDGES_DEFAULT
    #: Whether the photo's gray may be made ahead, where only the gray is read (a reference is
    #: matched against the gray as read).
    gray_ahead: ClassVar[bool] = True

    @property
    def kind(self) -> type[CueSource]:
        """The source, from the registry."""
        return REGISTRY.get(self.source)

    @property
    def strokes(self) -> CuePlan | None:
        """The plan of the user's own cues (strokes, points): this one."""
        return self

    @property
    def files(self) -> tuple[Path, ...]:
        """The files a job reads besides its photo."""
        return () if self.path == self.image else (self.path,)

    @property
    def photo_file(self) -> Path | None:
        """The file that holds the photo under the cues (a marked image), read with it; None: none."""
        return self.path if self.kind.holds_photo and self.path != self.image else None

    def check(self) -> None:
        """Refuse the source's file from a few bytes, before the photo is decoded
        (:meth:`CueSource.check`, given the photo's shape from its header where the source is
        :attr:`~CueSource.sized`)."""
        source = self.kind
        shape = image_shape(self.image, max_pixels=self.max_pixels) if source.sized else None
        source.check(self.path, self.image, shape, self.max_pixels)

    def load(self, gray: np.ndarray, *, cue_image: Any = None) -> Cues:
        """The cues for the photo whose gray is ``gray`` (:meth:`CueSource.load`; :meth:`check`
        was called).

        Parameters
        ----------
        gray : ndarray
            The photo's gray, ``H×W`` in [0, 1].
        cue_image : optional
            The file read already (a marked image's pixels read with its photo, a layered file's
            stroke layer).
        """
        return self.kind.load(
            self.path,
            gray,
            image=self.image,
            max_pixels=self.max_pixels,
            edges=self.edges,
            cue_image=cue_image,
            checked=True,
        )

    def match(
        self, gray: np.ndarray, strokes: Cues | None, *, fallback: bool = False, max_memory: float | None = None
    ) -> tuple[Cues | None, str]:
        """The photo's cues from ``strokes`` (those :meth:`load` made; None: none), and a line
        saying where they came from: here, ``strokes`` as they are and "" (a reference's plan
        matches its photos around them).

        Parameters
        ----------
        gray : ndarray
            The photo's gray, ``H×W`` in [0, 1].
        strokes : Cues or None
            The user's own cues.
        fallback : bool
            The network colours the photo without cues.
        max_memory : float, optional
            The memory budget reads count against.
        """
        return strokes, ""


class ImageSource(CueSource):
    """A source whose file is a lossless colour image of the photo's aspect ratio (a marked
    image, a stroke mask): refused from its header when it is a JPEG or of another aspect
    ratio, read in ``float32``.

    Attributes
    ----------
    edges, sized : bool
        True: its strokes' edges are read as ``edges`` says, and its size is checked against the
        photo's (:meth:`check`); the rest as :class:`CueSource` has them.
    """

    edges = True
    sized = True

    @classmethod
    def check(cls, path: Path, image: Path, shape: tuple[int, int] | None, max_pixels: int | None) -> None:
        """Refuse a JPEG, and an image whose aspect ratio (upright, from its header: no pixel is
        decoded) is not that of ``shape``: a few hundred bytes declaring gigapixels cost nothing.
        Marks of the same aspect ratio at another size are scaled to the photo when read.

        Parameters
        ----------
        path, image, shape, max_pixels
            As :meth:`CueSource.check` takes them.
        """
        check_lossless(path, cls.name)
        if shape is None:
            return
        height, width = image_shape(path, max_pixels=max_pixels)
        if not same_aspect((height, width), (shape[0], shape[1])):
            raise InputError(
                f"{path}: the {cls.name} image is {width}×{height} "
                f"but {image.name} is {shape[1]}×{shape[0]}, another aspect ratio"
            )
        # (decoded whole before it is scaled down: marks far larger than the photo cost far more than it)
        if height * width > max(MARKS_LARGER**2 * shape[0] * shape[1], MARKS_PIXELS_ANYWAY):
            raise InputError(
                f"{path}: the {cls.name} image is {width}×{height}, over {MARKS_LARGER}× the side of "
                f"{image.name} ({shape[1]}×{shape[0]}); save it at the photo's size"
            )

    @classmethod
    def read(cls, path: Path, gray: np.ndarray, **context: Unpack[ReadContext]) -> Cues:
        """The file's cues (:meth:`cues_of`), its pixels read unless given as ``cue_image``.

        Parameters
        ----------
        path, gray, **context
            As :meth:`CueSource.read` takes them.
        """
        cue_image = context.get("cue_image")
        if cue_image is None:
            cue_image = read_image(path, np.float32, max_pixels=context.get("max_pixels"))
        # (gray and alpha is read as RGBA: its planes all one, as no colour image's are)
        if cue_image.ndim == 2 or (cue_image.shape[2] == 4 and _planes_equal(cue_image)):
            raise InputError(f"{path}: the {cls.name} image is gray; it must be in colour")
        return cls.cues_of(gray, cue_image, context.get("edges", EDGES_DEFAULT))

    @classmethod
    def cues_of(cls, gray: np.ndarray | None, pixels: np.ndarray, edges: str) -> Cues:
        """The cues of the image's ``pixels`` (``h×w×3`` or ``×4``) for the photo whose gray is
        ``gray``.

        Parameters
        ----------
        gray : ndarray or None
            The photo's gray (None: only its size matters, and it is the pixels').
        pixels : ndarray
            The file's pixels in [0, 1].
        edges : str
            How the strokes' edges are read.
        """
        raise NotImplementedError


def check_lossless(path: Path, kind: str) -> None:
    """Refuse a JPEG marked or mask image (``kind``), before it is read.

    Parameters
    ----------
    path : Path
        The cue image.
    kind : str
        Its source's name (in the message).
    """
    if path.suffix.lower() in JPEG_EXTENSIONS:
        # Measured on the bundled example: its marked PNG saved as JPEG (quality 75-95) turns
        # 65-74 % of the pixels into cues, and no threshold recovers the strokes reliably.
        raise InputError(
            f"{path}: a JPEG {kind} image cannot be used: its compression noise turns most "
            "pixels into cues and blurs the strokes' colours; save it losslessly (PNG) and try again"
        )


def _planes_equal(image: np.ndarray) -> bool:
    """Whether ``image``'s red, green and blue are one plane (a gray file's, read as colour)."""
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]))
