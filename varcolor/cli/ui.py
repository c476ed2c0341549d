"""``varcolor ui``: the studio, a local web page for colorizing a photo with strokes."""

from __future__ import annotations

import argparse

from .common import add_input


def _cmd_ui(args) -> int:
    from ..ui import run  # Starlette and uvicorn are an extra: imported only here

    return run(
        args.image,
        session=args.session,
        host=args.host,
        port=args.port,
        open_browser=not args.no_browser,
        data_dir=args.data_dir,
        out_dir=args.out_dir,
        preview_megapixels=args.preview_megapixels,
    )


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``ui`` command (the studio) and its options to ``commands`` (the ``varcolor`` parser's)."""
    u = commands.add_parser(
        "ui",
        help="the studio: draw strokes in the browser and watch the photo take colour",
        description="Start the studio, a local web page for colorizing a photo with brush strokes and point "
        "hints, live (docs/studio.md). It listens on 127.0.0.1 only, with a random token in its "
        "address. Needs the ui extra: pip install 'varcolor[ui]'.",
    )
    add_input(u, "IMAGE", "photo to open (or open one on the page)", dest="image", required=False)
    u.add_argument("--session", metavar="FILE", help="reopen a saved session (NAME.studio.json)")
    u.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    u.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s; anything else lets other computers in)",
    )
    u.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    u.add_argument(
        "--out-dir",
        metavar="DIR",
        help="folder results are saved in (default: colorized/ in the current folder, made at the first save)",
    )
    u.add_argument(
        "--data-dir", metavar="DIR", help="autosaves and uploaded photos (default: ~/.local/share/varcolor/studio)"
    )
    u.add_argument(
        "--preview-megapixels",
        type=float,
        metavar="MP",
        help="largest live working copy; saving always solves the full image (default: 1.5)",
    )
    u.set_defaults(func=_cmd_ui)
