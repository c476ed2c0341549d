"""What the Krita plug-in and varcolor say to each other: the exchange folder's files, the command
the plug-in runs, which layers it takes, and where it finds a colour profile.

Standard library only: it runs in Krita's own Python (which has neither numpy nor varcolor) as a
module of the plug-in, and varcolor imports the same module to read the same files
(:mod:`varcolor.krita.exchange`): one module for both sides, so that they cannot disagree.

An exchange folder holds ``request.json`` (the canvas size, each layer's pixel layout as Krita
gives it, and the options), ``photo.raw`` and ``strokes.raw`` (``Node.pixelData`` of the whole
canvas: rows of pixels, each pixel its channels in Krita's order); varcolor answers with
``colorized.raw`` (in the document's layout) and ``reply.json`` (``ok``, ``error``: one line,
``seconds``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import sys
import tempfile

__all__ = [
    "FORMAT",
    "MAX_JSON_BYTES",
    "REQUEST",
    "REPLY",
    "PHOTO",
    "STROKES",
    "RESULT",
    "CONFIDENCE",
    "CONFIDENCE_LAYER",
    "DEPTHS",
    "METHODS",
    "EDGES",
    "RESULT_LAYER",
    "ProtocolError",
    "layout",
    "check_layout",
    "document_channels",
    "make_request",
    "read_request",
    "write_json",
    "read_reply",
    "PROGRAM",
    "installed_command",
    "varcolor_command",
    "colorize_command",
    "serve_command",
    "pick_layers",
    "find_profile",
    "FOLDER_PREFIX",
    "exchange_folder",
    "exchange_parent",
    "exchanged_bytes",
    "sweep_exchange_folders",
]

FORMAT = 1
REQUEST = "request.json"
REPLY = "reply.json"
PHOTO = "photo.raw"
STROKES = "strokes.raw"
RESULT = "colorized.raw"
#: Where the result's confidence map is written, when asked for (the result's layout, gray as RGB).
CONFIDENCE = "confidence.raw"
#: Beside the installed plug-in: the command of the varcolor that installed it.
PROGRAM = "program.json"
#: The name of the layer the plug-in makes (and replaces on the next run).
RESULT_LAYER = "colorized"
#: The hidden layer above it that shows where the colour is known (white) and guessed (black).
CONFIDENCE_LAYER = "confidence"
#: The layers varcolor makes: never taken as the strokes.
MADE_LAYERS = (RESULT_LAYER, CONFIDENCE_LAYER)
#: Bytes per channel of Krita's colour depths.
DEPTHS = {"U8": 1, "U16": 2, "F16": 2, "F32": 4}
#: Channel names of the colour models the plug-in reads, as Krita names them.
MODELS = {"RGBA": {"Red", "Green", "Blue", "Alpha"}, "GRAYA": {"Gray", "Alpha"}}
#: The methods offered in the docker (the default first).
METHODS = ("levin-multiscale", "levin", "levin-symmetric", "bilaplacian-gtv")
EDGES = ("unmix", "exact")
#: Exchange folders are ``varcolor-krita-<Krita's process id>-…`` (in :func:`exchange_parent`): the
#: Krita that made one removes it when its job ends, and one left by a Krita that crashed is
#: removed by the next (:func:`exchange_folder`).
FOLDER_PREFIX = "varcolor-krita-"
#: Profiles Krita builds in (no file) that are sRGB.
_SRGB_NAMES = ("sRGB built-in", "sRGB-elle-V2-srgbtrc.icc")


class ProtocolError(ValueError):
    """A request, a reply or a layer choice that cannot be used (one line, for the docker)."""


def layout(model: str, depth: str, profile: str, channels: list[str], profile_file: str | None = None) -> dict:
    """One layer's pixel layout: its colour model and depth (Krita's names), its profile's name
    (and file, where one was found), and its channel names in the order of the bytes."""
    found: dict[str, str | list[str] | None] = {
        "model": model,
        "depth": depth,
        "profile": profile,
        "channels": list(channels),
    }
    found["profile_file"] = profile_file
    return check_layout(found, "layer")


def check_layout(found: object, what: str) -> dict:
    """``found`` when it is a layout varcolor can read (``what`` names it in the error)."""
    if not isinstance(found, dict):
        raise ProtocolError(f"the {what}'s pixel layout is not an object")
    model, depth, channels = found.get("model"), found.get("depth"), found.get("channels")
    if model not in MODELS:
        raise ProtocolError(f"the {what} is {model}: varcolor reads RGB and grayscale layers (not CMYK, Lab, XYZ)")
    if depth not in DEPTHS:
        raise ProtocolError(f"the {what} has colour depth {depth}: varcolor reads U8, U16, F16 and F32")
    if not isinstance(channels, list) or sorted(map(str, channels)) != sorted(MODELS[model]):
        raise ProtocolError(f"the {what}'s channels {channels} are not those of {model}")
    if not isinstance(found.get("profile"), str) or not isinstance(found.get("profile_file"), str | None):
        raise ProtocolError(f"the {what}'s colour profile is not named")
    return found


def document_channels(model: str, depth: str) -> list[str]:
    """The channels, in the order of their bytes, of a new layer of a document of colour ``model``
    and ``depth`` (Krita's integer RGB is stored blue first, its floating-point RGB red first); a
    document that cannot hold colours is an error."""
    if model != "RGBA":
        raise ProtocolError(
            f"the document is {model}, which cannot hold colours: convert it to RGB first "
            "(Image > Convert Image Color Space)"
        )
    return ["Blue", "Green", "Red", "Alpha"] if depth in ("U8", "U16") else ["Red", "Green", "Blue", "Alpha"]


def make_request(
    width: int,
    height: int,
    photo: dict,
    strokes: dict,
    result: dict,
    method: str = METHODS[0],
    prior: str | None = None,
    edges: str = EDGES[0],
    confidence: bool = False,
) -> dict:
    """A request, checked: the canvas, the layouts of the photo, the strokes and the result (the
    document's: the new layer is made in it), and the options (``confidence``: the confidence map
    wanted too, as a layer)."""
    request = {
        "format": FORMAT,
        "width": width,
        "height": height,
        "photo": photo,
        "strokes": strokes,
        "result": result,
        "method": method,
        "prior": prior,
        "edges": edges,
        "confidence": confidence,
    }
    return _checked(request)


def _checked(request: object) -> dict:
    if not isinstance(request, dict) or request.get("format") != FORMAT:
        raise ProtocolError(f"not an exchange request of format {FORMAT}")
    for side in ("width", "height"):
        size = request.get(side)
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= 1 << 20:
            raise ProtocolError(f"the canvas {side} {size!r} is not a positive whole number of pixels")
    for name in ("photo", "strokes", "result"):
        check_layout(request.get(name), f"{name} layer" if name != "result" else "document")
    document_channels(request["result"]["model"], request["result"]["depth"])
    if request.get("method") not in METHODS:
        raise ProtocolError(f"unknown method {request.get('method')!r} (one of {', '.join(METHODS)})")
    if request.get("prior") not in (None, "ideepcolor"):
        raise ProtocolError(f"unknown prior {request.get('prior')!r} (ideepcolor or none)")
    if request.get("edges") not in EDGES:
        raise ProtocolError(f"unknown edge reading {request.get('edges')!r} (one of {', '.join(EDGES)})")
    if not isinstance(request.setdefault("confidence", False), bool):  # an older plug-in's: not asked
        raise ProtocolError(f"confidence must be true or false, got {request['confidence']!r}")
    return request


def raw_size(request: dict, name: str) -> int:
    """How many bytes the raw pixels of layer ``name`` (photo, strokes, result) hold."""
    found = request[name]
    return request["width"] * request["height"] * len(found["channels"]) * DEPTHS[found["depth"]]


def exchanged_bytes(request: dict) -> int:
    """How many bytes an exchange folder of ``request`` holds at most: its photo, its strokes, and
    the result twice (the one read and the next one being written), and its confidence map."""
    results = 3 if request.get("confidence") else 2
    return raw_size(request, "photo") + raw_size(request, "strokes") + results * raw_size(request, "result")


#: The longest request or reply file read: they hold a few hundred bytes.
MAX_JSON_BYTES = 1 << 16


def _read_small_file(path: str) -> str:
    """The text of the small regular file ``path``: a FIFO is refused instead of waited on for ever
    (opened without blocking, then its kind checked), a device such as ``/dev/zero`` instead of
    read without end, a longer file instead of read past :data:`MAX_JSON_BYTES`."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = file.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise OSError(f"{path} is longer than {MAX_JSON_BYTES} bytes")
    return data.decode("utf-8")


def read_request(folder: str | os.PathLike) -> dict:
    """The request of an exchange folder, checked (its pixel files too: present, of their size)."""
    path = os.path.join(folder, REQUEST)
    try:
        found = json.loads(_read_small_file(path))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"{path}: cannot read the request ({exc.__class__.__name__})") from None
    request = _checked(found)
    for name, file_name in (("photo", PHOTO), ("strokes", STROKES)):
        pixels = os.path.join(folder, file_name)
        if not os.path.lexists(pixels):
            raise ProtocolError(f"{pixels}: missing: the {name} layer was not written")
        if not os.path.isfile(pixels):
            raise ProtocolError(f"{pixels}: not a regular file (the {name} layer is written as one)")
        size = os.path.getsize(pixels)
        if size != raw_size(request, name):
            raise ProtocolError(f"{pixels}: {size} bytes, not the {raw_size(request, name)} of the {name} layer")
    return request


def write_json(path: str | os.PathLike, value: dict) -> None:
    """``value`` as JSON at ``path``, whole or absent (a temporary name, then a rename)."""
    temporary = f"{path}.part"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(value, file)
    os.replace(temporary, path)


def read_reply(folder: str | os.PathLike) -> dict:
    """varcolor's reply in an exchange folder: ``{"ok": True, "seconds": …}`` or ``{"ok": False,
    "error": one line}``; a missing or broken reply is an error reply."""
    path = os.path.join(folder, REPLY)
    try:
        reply = json.loads(_read_small_file(path))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {"ok": False, "error": "varcolor wrote no reply"}
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return {"ok": False, "error": "varcolor's reply is not one the plug-in reads"}
    if not reply["ok"]:
        reply["error"] = " ".join(str(reply.get("error") or "varcolor failed").split())
    return reply


def installed_command(folder: str | None = None) -> list[str] | None:
    """The command of the varcolor that installed the plug-in (``program.json`` beside this
    module, written by ``varcolor krita install``), where it still runs; else None."""
    path = os.path.join(folder or os.path.dirname(os.path.abspath(__file__)), PROGRAM)
    try:
        command = json.loads(_read_small_file(path)).get("command")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        return None
    if not (isinstance(command, list) and command and all(isinstance(word, str) for word in command)):
        return None
    return command if os.path.isfile(command[0]) and os.access(command[0], os.X_OK) else None


def varcolor_command(setting: str = "", folder: str | None = None) -> list[str]:
    """The varcolor program as a command: the setting (a path, or a command line such as
    ``python3 -m varcolor``), else the varcolor that installed the plug-in
    (:func:`installed_command`, looked for in ``folder``, by default this module's), else
    ``varcolor`` found on PATH."""
    if not setting.strip():
        installed = installed_command(folder)
        if installed is not None:
            return installed
    words = shlex.split(setting) if setting.strip() else ["varcolor"]
    found = shutil.which(words[0])
    if found is None:
        raise ProtocolError(
            f"varcolor not found ({words[0]}): install it and run varcolor krita install, or set its path in the docker"
        )
    return [found, *words[1:]]


def colorize_command(setting: str, folder: str | os.PathLike) -> list[str]:
    """The command that colorizes an exchange folder."""
    return [*varcolor_command(setting), "krita", "colorize", os.fspath(folder)]


def serve_command(setting: str) -> list[str]:
    """The command of the Live worker: request lines on its stdin, reply lines on its stdout."""
    return [*varcolor_command(setting), "krita", "serve"]


def pick_layers(
    names: list[str], kinds: list[str], active: int | None, photo: str = "", strokes: str = ""
) -> tuple[int, int]:
    """The photo and the strokes layer among a document's top-level layers (bottom first, their
    ``names`` and Krita ``kinds``): each the layer named by the user, or else the photo is the
    bottom paint layer and the strokes the selected paint layer (``active``), or the paint layer
    above the photo that varcolor did not make. Returns their indices."""
    paint = [i for i, kind in enumerate(kinds) if kind == "paintlayer"]

    def named(name: str, what: str) -> int:
        found = [i for i in paint if names[i] == name]
        if len(found) != 1:
            count = "no" if not found else "several"
            raise ProtocolError(f"{count} paint layer named {name!r} for the {what} at the top level of the document")
        return found[0]

    chosen_photo = named(photo, "photo") if photo else (paint[0] if paint else None)
    if chosen_photo is None:
        raise ProtocolError("the document has no paint layer to colour")
    if strokes:
        chosen_strokes = named(strokes, "strokes")
    elif active in paint and active != chosen_photo and names[active] not in MADE_LAYERS:
        chosen_strokes = active
    else:
        others = [i for i in paint if i != chosen_photo and names[i] not in MADE_LAYERS]
        if not others:
            raise ProtocolError("no strokes layer: paint the colours on a new paint layer above the photo")
        chosen_strokes = others[-1]
    if chosen_strokes == chosen_photo:
        raise ProtocolError(f"the photo and the strokes are the same layer ({names[chosen_photo]!r})")
    return chosen_photo, chosen_strokes


def find_profile(name: str, data_dirs: list[str]) -> str | None:
    """The ICC file of the profile ``name`` under ``color/icc`` of the data folders (where Krita
    and the system keep profiles), None for a built-in sRGB profile; an unknown one is an error."""
    for base in data_dirs:
        root = os.path.join(base, "color", "icc")
        for folder, _, files in os.walk(root):
            if name in files:
                return os.path.join(folder, name)
    if name in _SRGB_NAMES:
        return None
    raise ProtocolError(
        f"the colour profile {name!r} has no file varcolor can read: convert the image to sRGB "
        "(Image > Convert Image Color Space) or install the profile"
    )


def exchange_folder(parent: str | None = None, needed: int = 0) -> str:
    """A new exchange folder (private to this user), in ``parent`` (default: :func:`exchange_parent`
    for ``needed`` bytes), after removing those that Kritas no longer running left there and in
    the other places exchange folders go (:func:`sweep_exchange_folders`)."""
    parent = parent or exchange_parent(needed)
    for place in dict.fromkeys([parent, *_exchange_places()]):
        sweep_exchange_folders(place)
    return tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=parent)


def exchange_parent(needed: int) -> str:
    """Where a new exchange folder goes: the first of :func:`_exchange_places` that holds memory,
    not a disk (``XDG_RUNTIME_DIR``; on Linux ``/dev/shm``), is writable and has room for
    ``needed`` bytes twice over, where the memory available spares them (:data:`MEMORY_SHARE`);
    else the temporary folder. On a disk-backed ``/tmp`` each replaced file starts a write to disk
    that the next ones wait on (Krita's write of the strokes runs on its UI thread)."""
    if not _memory_to_spare(needed):
        return tempfile.gettempdir()
    for place in _exchange_places()[:-1]:
        try:
            if os.access(place, os.W_OK | os.X_OK) and shutil.disk_usage(place).free >= 2 * needed:
                return place
        except OSError:
            continue
    return tempfile.gettempdir()


#: A folder in memory holds files the system cannot page out: used only while they take at most
#: this share of the memory available.
MEMORY_SHARE = 1 / 8


def _memory_to_spare(needed: int) -> bool:
    """Whether ``needed`` bytes are at most :data:`MEMORY_SHARE` of the memory available now
    (Linux's ``MemAvailable``; elsewhere, no folder in memory is looked for anyway)."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return needed <= MEMORY_SHARE * int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return False


def _exchange_places() -> list[str]:
    """Where exchange folders may be: the memory-backed folders, then the temporary folder."""
    places = [os.environ.get("XDG_RUNTIME_DIR", "")]
    if sys.platform.startswith("linux"):
        places.append("/dev/shm")
    return [place for place in places if place and os.path.isdir(place)] + [tempfile.gettempdir()]


def sweep_exchange_folders(parent: str) -> list[str]:
    """Remove the exchange folders in ``parent`` whose Krita is gone; return their paths.

    Only folders named by :data:`FOLDER_PREFIX` and a process id, owned by this user and not
    links, whose process no longer exists: a folder of a running Krita (or of a process that took
    its id since) is left alone. Nothing is swept on Windows, where asking whether a process
    exists by ``os.kill`` would end it."""
    if os.name == "nt":
        return []
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    for entry in entries:
        owner = entry.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        if not entry.name.startswith(FOLDER_PREFIX) or not owner.isdigit() or int(owner) <= 0:
            continue
        try:
            found = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or _running(int(owner)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or no process id at all: left alone
        return True
    return True
