"""``varcolor train``: train the neural prior on folders of colour photos."""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

from ..errors import InputError
from ..io import same_file
from .common import add_input, add_quiet


def _cmd_train(args) -> int:
    try:
        from ..neural.train import TrainingConfig, export, train
    except ImportError:
        raise InputError("training needs PyTorch: pip install 'varcolor[neural]'") from None
    config = TrainingConfig(
        data=args.data,
        validation=args.validation,
        width=args.width,
        crop=args.crop,
        batch=args.batch,
        steps=args.steps,
        lr=args.lr,
        class_weight=args.class_weight,
        seed=args.seed,
        threads=args.threads,
        global_hints=args.global_hints,
        init=args.init,
        device=args.device,
        rebalance=args.rebalance,
        train_only="class" if args.class_head_only else None,
    )
    try:  # every number, and the batch's memory, before any photo is loaded
        config.check()
    except InputError as exc:  # the option's name as its flag
        raise InputError(re.sub(r"^([a-z_]+) must", lambda m: f"--{m[1].replace('_', '-')} must", str(exc))) from None
    output = Path(args.output)
    checkpoint, model = output / "checkpoint.pt", output / "model.safetensors"
    if args.init:
        if not Path(args.init).is_file():
            raise InputError(f"{args.init}: no such weights file")
        for written in (checkpoint, model):  # by identity: a link to --init is --init
            if same_file(written, args.init):
                raise InputError(
                    f"--init {args.init}: it is {written}, which this run writes; copy it elsewhere or use another -o"
                )
    if checkpoint.exists() and not args.resume:
        raise InputError(f"{checkpoint} exists: give --resume to continue that run, or another -o")
    if os.path.lexists(model) and not args.overwrite and not (args.resume and checkpoint.is_file()):
        raise InputError(f"{model} exists: give --overwrite to replace it, or another -o")
    start = time.perf_counter()
    train(config, checkpoint, progress=not args.quiet, stop_at=args.stop_at, accept_changes=args.accept_changes)
    weights = export(
        checkpoint,
        model,
        half=not args.float32,
        hours=f"{(time.perf_counter() - start) / 3600:.2f}",
    )
    if not args.quiet:
        print(f"wrote {checkpoint} and {weights} (use with --prior ideepcolor --network-file {weights})")
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``train`` command and its options to ``commands`` (the ``varcolor`` parser's)."""
    t = commands.add_parser(
        "train",
        help="train the neural prior on folders of colour photos",
        description="Train a SIGGRAPH17-shaped colorization network (the prior of --prior ideepcolor) on "
        "folders of colour photos, as the paper did: random crops and flips, random hints, "
        "smooth-L1 on ab plus the 529-bin class loss. Writes OUT/checkpoint.pt every 100 steps "
        "(resume with --resume) and OUT/model.safetensors at the end.",
    )
    add_input(t, "FOLDER", "folders of colour photos (recursive)", dest="data", many=True)
    t.add_argument("-o", "--output", required=True, metavar="OUT", help="run folder")
    t.add_argument("--validation", metavar="FOLDER", help="photos scored (PSNR, 10 hints, 256²) during training")
    t.add_argument(
        "--width", type=float, default=0.25, help="channel multiplier; 1 is the official size (default: %(default)s)"
    )
    t.add_argument("--steps", type=int, default=4000, help="optimizer steps (default: %(default)s)")
    t.add_argument("--batch", type=int, default=16, help="crops per step (default: %(default)s)")
    t.add_argument("--crop", type=int, default=128, help="crop side in pixels, a multiple of 8 (default: %(default)s)")
    t.add_argument("--lr", type=float, default=1e-3, help="peak learning rate, cosine decay (default: %(default)s)")
    t.add_argument(
        "--class-weight",
        type=float,
        default=1.0,
        help="weight of the class loss; 0 turns it off (default: %(default)s)",
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all)")
    t.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where the network trains; cuda needs a CUDA build of PyTorch (default: %(default)s)",
    )
    t.add_argument(
        "--global-hints",
        action="store_true",
        help="add the global-hints branch (ab histogram + saturation, the `global` IR method's hints)",
    )
    t.add_argument(
        "--init",
        metavar="WEIGHTS",
        help="start from this model's weights (same width; a missing global-hints branch starts fresh)",
    )
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in OUT, with the options it was started with (OUT/model.safetensors is then replaced)",
    )
    t.add_argument(
        "--accept-changes",
        action="store_true",
        help="with --resume: go on with options that differ from the run's (the checkpoint records both)",
    )
    t.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing OUT/model.safetensors (never the --init file: that is always refused)",
    )
    t.add_argument(
        "--stop-at", type=int, metavar="STEP", help="stop after this step (checkpointed), to train in slices"
    )
    t.add_argument(
        "--rebalance",
        type=float,
        metavar="LAMBDA",
        help="class-rebalanced cross-entropy (Zhang et al. 2016), uniform mix λ (e.g. 0.5)",
    )
    t.add_argument(
        "--class-head-only",
        action="store_true",
        help="train only the class head; the rest stays frozen (use with --init)",
    )
    t.add_argument("--float32", action="store_true", help="export float32 weights (default: float16)")
    add_quiet(t)
    t.set_defaults(func=_cmd_train)
