"""``graphcon-ode train`` never destroys a run: an earlier checkpoint is kept unless asked, a resume names what
differs, Ctrl-C names the resume command, unreadable checkpoints are one line, and every file is written atomically."""

import json
import os
import shlex

import pytest
import torch

from graphcon_ode.cli import add_cli_options, train
from graphcon_ode.cli import main as cli_main
from graphcon_ode.cli.arguments import Parser

SMALL = ["train", "--dataset", "sbm", "--nodes", "120", "--degree", "4", "--classes", "3", "--hidden", "4",
         "--layers", "2", "--eval-every", "0"]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli_main(list(argv))
    return code, capsys.readouterr().err.strip()


def test_an_earlier_run_is_refused_unless_resumed_or_overwritten(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, *SMALL, "--epochs", "1", "--out", out)[0] == 0
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    code, err = run(capsys, *SMALL, "--epochs", "2", "--out", out)
    assert code == 2 and len(err.splitlines()) == 1 and "--resume" in err and "--overwrite" in err
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    assert run(capsys, *SMALL, "--epochs", "2", "--out", out, "--resume")[0] == 0
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["epoch"] == 2
    assert run(capsys, *SMALL, "--epochs", "1", "--out", out, "--overwrite")[0] == 0
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["epoch"] == 1


def test_resume_names_the_differing_settings(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, *SMALL, "--epochs", "1", "--out", out)[0] == 0
    code, err = run(capsys, *SMALL, "--epochs", "2", "--lr", "0.5", "--out", out, "--resume")
    assert code == 2 and len(err.splitlines()) == 1
    assert "--lr 0.01 saved, 0.5 given" in err and "--hidden" not in err


def test_resume_without_a_checkpoint_is_an_error(tmp_path, capsys):
    code, err = run(capsys, *SMALL, "--epochs", "1", "--out", str(tmp_path / "none"), "--resume")
    assert code == 2 and "--resume" in err and "checkpoint.pt" in err


@pytest.mark.parametrize("kind", ["corrupt", "empty", "folder"])
def test_an_unreadable_checkpoint_is_one_line_naming_it(tmp_path, capsys, kind):
    checkpoint = tmp_path / "checkpoint.pt"
    if kind == "folder":
        checkpoint.mkdir()
    else:
        checkpoint.write_bytes(b"" if kind == "empty" else b"PK\x03\x04 not a checkpoint")
    code, err = run(capsys, *SMALL, "--epochs", "1", "--out", str(tmp_path), "--resume")
    assert code == 2 and len(err.splitlines()) == 1 and str(checkpoint) in err


def test_ctrl_c_names_the_exact_resume_command(tmp_path, capsys, monkeypatch):
    argv = [*SMALL, "--epochs", "3", "--fanout", "2", "2", "--batch-size", "16", "--lr=0.02", "--out",
            str(tmp_path / "run")]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "save_checkpoint", interrupted)
    code, err = run(capsys, *argv)
    assert code == 130 and len(err.splitlines()) == 1
    command = shlex.split(err.split("continues with: ")[1])
    assert command[:2] == ["graphcon-ode", "train"] and command[-1] == "--resume"
    assert settings(command[2:]) == settings(argv[1:] + ["--resume"])


def settings(argv: list[str]) -> dict:
    """The parsed options of ``graphcon-ode train ARGV`` (without the record of which were given)."""
    parser = Parser(prog="graphcon-ode train")
    train.add_arguments(parser)
    add_cli_options(parser)
    return vars(parser.parse_args(argv))


def test_every_file_is_written_atomically(tmp_path, capsys, monkeypatch):
    renamed = []
    replace = os.replace

    def spy(source, destination):
        renamed.append(os.path.basename(destination))
        replace(source, destination)

    monkeypatch.setattr(os, "replace", spy)
    assert run(capsys, *SMALL, "--epochs", "2", "--out", str(tmp_path))[0] == 0
    written = {path.name for path in tmp_path.iterdir()}
    assert written == {"checkpoint.pt", "metrics.json"} and written <= set(renamed)


def test_cuda_without_cuda_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, err = run(capsys, *SMALL, "--epochs", "1", "--device", "cuda", "--out", str(tmp_path))
    assert code == 2 and len(err.splitlines()) == 1 and "--device" in err


def test_a_binary_dataset_is_scored_by_roc_auc(tmp_path, capsys, data_root, private_cache):
    if not (data_root / "tolokers").is_dir():
        pytest.skip("no tolokers data")
    code, _ = run(capsys, "train", "--dataset", "tolokers", "--data-root", str(data_root), "--hidden", "4",
                  "--layers", "1", "--epochs", "1", "--out", str(tmp_path))
    assert code == 0
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert state["model"]["decoder.weight"].shape[0] == 1
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["metric"] == "roc_auc" and 0.0 <= metrics["last"]["val"] <= 1.0
