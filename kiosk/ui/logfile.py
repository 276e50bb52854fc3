"""The kiosk's log file, in the user log directory (``kiosk.config.log_dir()``)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from kiosk.config import log_dir
from kiosk.domain.text import terminal_text

LOG_NAME = "kiosk.log"
_handler: RotatingFileHandler | None = None
CONTINUED = "    "  # before each further line of one record (a traceback's, a name's)


class PlainLines(logging.Formatter):
    """Each record as lines no one can mistake for another record, with nothing in them a
    terminal acts on: a record's further lines (a traceback) are indented, and ESC, a bidi
    override or a lone CR is written as U+FFFD (``terminal_text``). The log quotes stored
    text (an admin's name when the kiosk is closed): a name holding a line break and a whole
    forged record wrote a line reading as the log's own, and its ESC reached whoever read the
    log with cat or tail."""

    def format(self, record: logging.LogRecord) -> str:
        text = terminal_text(super().format(record)).replace("\r\n", "\n")
        return text.replace("\n", "\n" + CONTINUED)


def setup_file_logging() -> Path | None:
    """Send the ``kiosk`` loggers to ``<log dir>/kiosk.log`` (rotated). None if impossible.

    Whatever happens, nothing the kiosk logs is printed on the terminal (that is the screen).
    """
    global _handler
    logger = logging.getLogger("kiosk")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # it names people
        path = directory / LOG_NAME
    except OSError:
        return None
    if _handler is not None:
        if Path(_handler.baseFilename) == path.resolve():
            return path
        logger.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(PlainLines("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    _handler = handler
    return path
