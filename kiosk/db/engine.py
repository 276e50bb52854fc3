"""Engine and session factory, with the SQLite settings a durable register needs."""

from __future__ import annotations

import logging
import os
import re
import weakref
from collections.abc import Iterable
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from kiosk.domain.chain import parse_details
from kiosk.domain.text import display_text

log = logging.getLogger("kiosk.db")

SQLITE_BUSY_TIMEOUT_MS = 15_000
# How long any statement of the kiosk waits for a lock on PostgreSQL (a table the owner has
# locked for VACUUM FULL, CLUSTER or a migration left in an open transaction) before it
# fails in words: as long as SQLite waits for its file. Without it a badge scanned at home
# (a read) waited for ever. Writes set it again per transaction (``kiosk.services.uow``).
PG_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
# A server that stops answering (its network gone, the machine off) is noticed within about
# 15 s rather than never: TCP keepalives while a statement waits for its answer (5 s idle,
# then 3 probes 2 s apart: 11 s), and at most 15 s for anything sent to be acknowledged.
# Without them libpq waits for an answer as long as the system's keepalive (two hours).
PG_DEAD_LINK = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
# What a kiosk's session needs, whatever its login's role says (a login may ``ALTER ROLE`` its
# own defaults; what a connection asks for wins over them): transactions that may write, no
# statement cut short (locks have their own timeout above), no session ended while the kiosk
# computes a hash inside its transaction, nor while the office reads a streamed listing). A
# value the URL or ``PGOPTIONS`` gives is kept.
PG_SESSION_SETTINGS = {
    "default_transaction_read_only": "off",
    "statement_timeout": 0,
    # None for the session: a read may idle as long as its reader takes (``kiosk register
    # --csv - | less`` streams the register in one transaction while the office reads; a
    # session-wide five minutes cut it off half-way with "the database is unavailable"). A
    # write, which holds the chain's lock, is bounded on its own (``kiosk.services.uow``).
    "idle_in_transaction_session_timeout": 0,
    # Each statement its own snapshot: a write reads the chain's head once it holds the
    # chain's lock. With REPEATABLE READ (or SERIALIZABLE) as the role's default, a kiosk's
    # snapshot was taken before it waited its turn, and it chained on from a head that another
    # kiosk had just passed: "Not recorded" whenever two kiosks scanned at once. (Verify asks
    # for its one snapshot itself.)
    "default_transaction_isolation": "read\\ committed",
    # Names in the definitions PostgreSQL gives back quoted only where needed: verify compares
    # them with the kiosk's text (``quote_all_identifiers = on`` made it say every trigger
    # of an honest register had been changed).
    "quote_all_identifiers": "off",
    # No library loaded into the kiosk's sessions (any login may name one of the server's
    # plugins; one that is not there stopped every session from starting).
    "local_preload_libraries": "",
    # No parallel worker started for a statement: any login may set ``force_parallel_mode =
    # on`` (``debug_parallel_query``) with parallel costs of nothing on its own role, and
    # each scan went from 12 to 69 ms. (This name is the same on every version.)
    "max_parallel_workers_per_gather": 0,
}
# The same for settings only newer servers know: idle_session_timeout (PostgreSQL 14) ended
# the kiosk's sessions between one scan and the next, and between the pool's check of a
# connection and its use; transaction_timeout (PostgreSQL 17) of a millisecond would end
# every transaction of every kiosk. A server that does not know one refuses the whole
# connection ("unrecognized configuration parameter"): the kiosk then connects without it.
# No statement compiled to machine code first (``jit``, PostgreSQL 11: a PostgreSQL 10 asked
# for it refused every connection): the kiosk's are small, and any login may set
# ``jit_above_cost = 0`` on its own role (every deposit went from 4 ms to half a second, at
# every kiosk sharing the login, on a server whose packages ship JIT on).
PG_NEWER_SETTINGS: dict[str, Any] = {
    "idle_session_timeout": 0,
    "transaction_timeout": 0,
    "jit": "off",
}
# The server version (server_version_num) that first knows each: asked only of a server that
# knows it. Asked of every server, a PostgreSQL 14-16 refused each kiosk process's first
# connection over transaction_timeout and logged a FATAL line (every kiosk start, every
# ``kiosk notify``). The refusal is still understood, for a server that says another version.
PG_SETTING_SINCE = {"idle_session_timeout": 140000, "transaction_timeout": 170000, "jit": 110000}
# SQLite errors after which a connection is thrown away rather than pooled again: one opened
# while the file was read-only stays read-only (and the kiosk would never recover), and one
# that hit an I/O error or a full disk is best reopened once the file is writable again.
SQLITE_DISCARD_AFTER = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN")


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


UNREADABLE = "_unreadable"


def read_json(text: str) -> Any:
    """A JSON column's value; one that is not JSON (written around the kiosk) is read as
    ``{"_unreadable": <its first 200 characters>}`` instead of failing the whole query: the
    listings mark that row, and ``kiosk verify`` names it (its hash no longer matches)."""
    try:
        return parse_details(text)  # (one that holds a name twice is not read either)
    except (ValueError, TypeError, RecursionError):
        # RecursionError: nested deeper than Python's reader goes (PostgreSQL's json and
        # SQLite keep thousands of levels); not a ValueError, it stopped every listing.
        return {UNREADABLE: str(text)[:200]}


def pg_connect_args(url: str, given: dict[str, Any]) -> dict[str, Any]:
    """What the kiosk asks of a PostgreSQL connection, where the URL (its query string) and
    the caller have not said otherwise: SQLAlchemy's ``connect_args`` win over the URL's, so
    only what neither sets is filled in.

    * UTF-8: a login may ``ALTER ROLE`` its own client_encoding (to SQL_ASCII psycopg hands
      text over as bytes, and every read failed with a TypeError); what the connection asks
      for wins over the role's default.
    * a lock timeout for every statement and ISO dates, added to any ``options`` the URL,
      the caller or ``PGOPTIONS`` give (a ``search_path`` there is kept): psycopg reads times
      in ISO style only, and a login may ``ALTER ROLE`` its own DateStyle (``SQL, DMY``:
      every deposit, screen and verify raised NotImplementedError);
    * a connect timeout and keepalives (a dead link is noticed in seconds, not hours);
    * the transaction settings of :data:`PG_SESSION_SETTINGS`, which any login may set on its
      own role for every kiosk that shares it (``ALTER ROLE CURRENT_USER SET
      default_transaction_read_only = on``, a ``statement_timeout`` of a millisecond, a
      ``repeatable read`` isolation): each scan at every kiosk (or each one made while another
      kiosk was recording) said "the database is unavailable"."""
    query = make_url(url).query
    args = dict(given)
    for name, value in {"connect_timeout": 5, "client_encoding": "utf8", **PG_DEAD_LINK}.items():
        if name not in query:
            args.setdefault(name, value)
    options = args.get("options") or query.get("options") or os.environ.get("PGOPTIONS") or ""
    if isinstance(options, tuple):  # the option given twice in the URL
        options = " ".join(options)
    already = settings_given(options)
    for name, value in (
        ("lock_timeout", int(PG_LOCK_TIMEOUT_MS)),
        ("DateStyle", "ISO"),
        *PG_SESSION_SETTINGS.items(),
        *PG_NEWER_SETTINGS.items(),
    ):
        if setting_key(name) not in already:
            options = f"{options} -c {name}={value}".strip()
    args["options"] = options
    return args


def setting_key(name: str) -> str:
    """A setting's name as PostgreSQL matches it: in any case, dashes for underscores."""
    return name.strip().replace("-", "_").lower()


def settings_given(options: str) -> set[str]:
    """The settings a libpq ``options`` string sets (as :func:`setting_key`), in each form
    the server takes: ``-c name=value``, ``-cname=value`` and ``--name=value``, arguments
    apart by spaces not escaped with a backslash. A name merely contained in another
    (``deadlock_timeout``) or in a value is not one given: looking for the text, the kiosk
    missed ``--statement-timeout=1h`` (and put its own after it, which won) and took
    ``-c deadlock_timeout=2s`` for a lock timeout."""
    args: list[str] = []
    word, escaped, started = [], False, False
    for char in options:
        if escaped:
            word.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif char.isspace():
            if started:
                args.append("".join(word))
            word, started = [], False
        else:
            word.append(char)
            started = True
    if started:
        args.append("".join(word))
    given = set()
    for i, arg in enumerate(args):
        if arg.startswith("--"):
            assignment = arg[2:]
        elif arg == "-c":
            assignment = args[i + 1] if i + 1 < len(args) else ""
        elif arg.startswith("-c"):
            assignment = arg[2:]
        else:
            continue
        if "=" in assignment:
            given.add(setting_key(assignment.partition("=")[0]))
    return given


def sqlite_uri(parsed: URL) -> bool:
    """Does the SQLite URL ``parsed`` make SQLite read its database as a URI (``uri=true``,
    a ``file:`` name, ``mode=memory``, a ``vfs``), naming something other than its path?"""
    options = {k.lower(): str(v).lower() for k, v in parsed.query.items()}
    return (
        options.get("uri", "false") not in ("false", "0", "no", "off")
        or str(parsed.database or "").lower().startswith("file:")
        or options.get("mode") == "memory"
        or "vfs" in options
    )


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine. On SQLite: WAL, synchronous=FULL, foreign keys, busy timeout.

    SQLite transactions begin DEFERRED for reads; a connection whose execution options
    carry ``kiosk_write=True`` (see :func:`write_engine`) begins IMMEDIATE, so two kiosks
    that read-then-write are serialised instead of failing with "database is locked".
    """
    url = normalise_url(url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        kwargs["connect_args"].setdefault("check_same_thread", False)
        parsed = make_url(url)
        if ":memory:" in url or parsed.database in (None, ""):
            raise ValueError("the kiosk needs a database file, not an in-memory database")
        # A SQLite URI (``?uri=true``: "file:...?mode=memory&cache=shared", a "vfs" of its
        # own) names a file other than the path every check of the kiosk looks at (the file
        # replaced or removed, a network share, the witness), or no file at all: an
        # in-memory register the kiosk confirmed deposits into, gone when it stopped.
        if sqlite_uri(parsed):
            raise ValueError(
                "the kiosk needs a database file named by its path "
                "(sqlite:////var/lib/kiosk/kiosk.sqlite3), not a SQLite URI (uri=true, file:, "
                "mode=memory, vfs=) nor an in-memory database"
            )
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs["connect_args"] = pg_connect_args(url, kwargs.get("connect_args") or {})
    kwargs.setdefault("json_deserializer", read_json)
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    else:
        _connect_to_older_servers(engine)
    return engine


def _connect_to_older_servers(engine: Engine) -> None:
    """The settings of :data:`PG_NEWER_SETTINGS` asked for only of a server whose version
    knows them (learnt from this engine's first connection, made without them: connected
    again with them when it knows any). A server that still refuses a connection over one
    (an older PostgreSQL saying another version): connect again without the ones it named, as
    many times as it names another. (The dialect's own connect, after any ``do_connect``
    listener, is wrapped.)"""
    newer = {name: f"-c {name}={value}" for name, value in PG_NEWER_SETTINGS.items()}
    refused: set[str] = set()  # by this engine's server: not asked for again
    versions: list[int] = []  # this engine's server's, once a connection told it
    dialect = engine.dialect
    plain_connect = dialect.connect

    def without(cparams: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
        options = str(cparams.get("options", ""))
        for name in names:
            options = options.replace(newer[name], "")
        return {**cparams, "options": " ".join(options.split())}

    def connect(*cargs: Any, **cparams: Any) -> Any:
        if not versions:
            first = plain_connect(*cargs, **without(cparams, newer))
            info = getattr(first, "info", None)
            versions.append(int(getattr(info, "server_version", 0) or 0))
            refused.update(n for n in newer if versions[0] < PG_SETTING_SINCE.get(n, 0))
            if refused.issuperset(newer):
                return first
            first.close()
        # Again after each refusal: a server that knows none of them names only the first
        # (each time one more is left out, so this ends).
        while True:
            asked = without(cparams, refused) if refused else cparams
            try:
                return plain_connect(*cargs, **asked)
            except dialect.loaded_dbapi.OperationalError as exc:
                options = str(asked.get("options", ""))
                unknown = [n for n, o in newer.items() if o in options and setting_unknown(exc, n)]
                if not unknown:
                    raise
                # (expected of every server older than the newest setting: not a warning)
                log.info("the server does not know %s: connecting without", ", ".join(unknown))
                refused.update(unknown)

    dialect.connect = connect  # type: ignore[method-assign]


# SQLSTATE undefined_object: "unrecognized configuration parameter".
_UNDEFINED_OBJECT = "42704"


def setting_unknown(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is the server refusing a connection over a setting ``name`` it does not
    know. By its SQLSTATE (42704) where the driver gives one (psycopg gives none for a refused
    connection), and by the setting's bare name in the message: the words and the quoting
    around the name are the server's lc_messages' ("unrecognized configuration parameter
    \"x\"", German "nicht erkannter Konfigurationsparameter »x«", French "« x »").
    Looking for the English quoting, a PostgreSQL 13 server speaking German
    refused every kiosk for ever."""
    code = getattr(exc, "sqlstate", None)
    if code is not None and code != _UNDEFINED_OBJECT:
        return False
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", str(exc)) is not None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    # A connection opened while the file could not be written (read-only file system,
    # immutable file, permissions) is read-only for good: once the file is writable again,
    # throw it away at checkout so the pool opens a writable one. Without this, a kiosk
    # started during such an outage would never record again until restarted.
    path = engine.url.database or ""

    # The file at the path just before SQLite opens it, and just after: another file renamed
    # over it in between (a shell told of the open by inotify) left the connection with the
    # old file, now unlinked, while the look after noted the new one; nothing afterwards
    # could see a difference, and every confirmed write went into a file no one can open.
    @event.listens_for(engine, "do_connect")
    def look_before_opening(_dialect: Any, record: Any, _cargs: Any, _cparams: Any) -> None:
        record.info[_FILE_BEFORE_OPEN] = file_identity(path)

    @event.listens_for(engine, "connect")
    def note_read_only(_dbapi_connection: Any, record: Any) -> None:
        record.info["kiosk_opened_read_only"] = not os.access(path, os.W_OK)
        before = record.info.pop(_FILE_BEFORE_OPEN, None)
        now = file_identity(path)
        if before is not None and now != before:
            log.error("the database file was replaced as the kiosk opened it: not used")
            now = _NOT_KNOWN  # which one it has is not known: never the one at the path
        record.info[FILE_OPENED] = now

    @event.listens_for(engine, "checkout")
    def drop_if_writable_again(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("kiosk_opened_read_only") and os.access(path, os.W_OK):
            raise DisconnectionError("the database file is writable again: reconnecting")
        # Another file renamed over the database (a copy put in place by a shell, a sync
        # tool): this connection still has the old one open, now reachable by no one. The
        # pool opens the file at the path instead (the one every other process reads).
        opened = record.info.get(FILE_OPENED)
        now = file_identity(path)
        if opened is not None and now is not None and now != opened:
            log.error("the database file was replaced while the kiosk had it open: reopening")
            raise DisconnectionError("the database file was replaced: reconnecting")

    @event.listens_for(engine, "handle_error")
    def on_error(context: Any) -> None:
        name = getattr(context.original_exception, "sqlite_errorname", "") or ""
        if name.startswith(SQLITE_DISCARD_AFTER):
            context.is_disconnect = True

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("kiosk_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


# File systems of a network share (the kernel's names, as /proc/self/mountinfo gives them):
# SQLite's locks and its WAL's shared memory do not reach across machines there, so two
# machines writing one file may each write from a view of the register the other has moved
# on from (lost events, a damaged file). Several kiosks share PostgreSQL instead.
NETWORK_FILE_SYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.davfs2",
        # A share opened in a desktop's file manager (GNOME's gvfs: smb://, sftp://, dav://,
        # under /run/user/UID/gvfs/smb-share:server=...,share=...), a virtual machine's
        # shared folder (VirtualBox, VMware, virtio-fs), Windows' drives under WSL, and the
        # other FUSE clients of a server, a cloud store or a cluster:
        "fuse.gvfsd-fuse",
        "fuse.gvfs-fuse-daemon",
        "vboxsf",
        "vmhgfs",
        "fuse.vmhgfs-fuse",
        "virtiofs",
        "drvfs",
        "fuse.smbnetfs",
        "fuse.curlftpfs",
        "fuse.juicefs",
        "fuse.gcsfuse",
        "fuse.goofys",
        "fuse.mountpoint-s3",
        "fuse.onedriver",
        "fuse.google-drive-ocamlfuse",
        "fuse.seaweedfs",
        "fuse.moosefs",
        "fuse.cephfs",
        "fuse.lizardfs",
        "fuse.beegfs",
        "beegfs",
        "ocfs2",
        "gfs2",
        "orangefs",
        "coda",
        "smb2",
    }
)
# A mount's source naming another machine, whatever its type: "server:/export" (NFS),
# "user@host:path" or "host:" (sshfs), "//server/share" (SMB). Local sources are a device
# ("/dev/sda1"), a pool ("rpool/ROOT"), or a word ("tmpfs", "overlay", "gvfsd-fuse").
_REMOTE_SOURCE = re.compile(r"^(//[^/\s]|[\w.@\[\]-]+:(/|$)|[^/\s]*@[^/\s]+:)")
MOUNTINFO = "/proc/self/mountinfo"


def _unescape_mount_path(text: str) -> str:
    """A path as mountinfo writes it (space, tab, newline and backslash as octal escapes)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def file_system_of(path: str, mountinfo: str | None = None) -> str | None:
    """The type of the file system ``path`` (a file, or where it will be) is on, from the
    mount whose mount point is the longest prefix of its real folder; None when not known
    (no /proc: not Linux)."""
    found = mount_of(path, mountinfo)
    return None if found is None else found[0]


def remote_source_of(path: str, mountinfo: str | None = None) -> str | None:
    """The source of the mount ``path`` is on when it names another machine
    (``_REMOTE_SOURCE``: "server:/export", "//server/share", "user@host:"), else None."""
    found = mount_of(path, mountinfo)
    if found is None or not _REMOTE_SOURCE.match(found[1]):
        return None
    return found[1]


def mount_of(path: str, mountinfo: str | None = None) -> tuple[str, str] | None:
    """The type and source of the mount ``path`` is on (as :func:`file_system_of`)."""
    found: tuple[str, str] | None
    if mountinfo is None:
        try:
            with open(MOUNTINFO, encoding="utf-8", errors="replace") as fh:
                mountinfo = fh.read()
        except OSError:
            return None
    # The file's own link followed too: SQLite opens (and locks) the file it points to.
    folder = os.path.dirname(os.path.realpath(os.path.abspath(path))) or "/"
    best, found = -1, None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        point = _unescape_mount_path(fields[4])
        inside = folder == point or folder.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best:  # (a later mount over the same point wins)
            source = _unescape_mount_path(tail[1]) if len(tail) > 1 else ""
            best, found = len(point), (tail[0], source)
    return found


_FILE_SYSTEMS: weakref.WeakKeyDictionary[Engine, str | None] = weakref.WeakKeyDictionary()


def on_network_share(engine: Engine) -> str | None:
    """The network share the engine's SQLite file is on, named (its file system, one of
    ``NETWORK_FILE_SYSTEMS``, or "TYPE from SOURCE" for a mount of another machine's folder
    of any type), or None (not SQLite, a local disk, or not known). Looked up once per
    engine."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    if engine not in _FILE_SYSTEMS:
        path = engine.url.database or ""
        kind = file_system_of(path) if path and path != ":memory:" else None
        share = kind if kind in NETWORK_FILE_SYSTEMS else None
        if kind is not None and share is None:
            # Of any type, a mount of another machine's folder ("fuse" mounted by a helper
            # the list does not know, "server:/kiosk"): named by its source.
            source = remote_source_of(path)
            if source is not None:
                # Both as text to show: a FUSE mount's type and source are its user's to
                # name (``-o subtype=,fsname=``), escape sequences included.
                share = f"{display_text(kind)[:40]} from {display_text(source)[:60]}"
        _FILE_SYSTEMS[engine] = share
    return _FILE_SYSTEMS[engine]


FILE_OPENED = "kiosk_file_opened"
_FILE_BEFORE_OPEN = "kiosk_file_before_open"
# A connection that may have either file (replaced as it was opened): unlike any file's.
_NOT_KNOWN = (-1, -1)


def file_identity(path: str) -> tuple[int, int] | None:
    """The file at ``path`` (device and inode), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def file_replaced(engine: Engine, info: dict[Any, Any]) -> bool:
    """SQLite: is the file at the database's path no longer the one the connection whose
    pool ``info`` this is opened (renamed over, or removed)? Its commits would go into a file
    nobody can open again, while every other process, ``kiosk verify`` included, reads the
    file at the path: a confirmed event in no register."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    opened = info.get(FILE_OPENED)
    return bool(path) and opened is not None and file_identity(str(path)) != opened


def file_gone(engine: Engine) -> bool:
    """SQLite: no file at the database's path any more (removed while the kiosk had it open:
    its connections still write into the removed file, which no one can open again)."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    return bool(path) and file_identity(str(path)) is None


def write_engine(engine: Engine) -> Engine:
    """The same pool, with transactions that take the write lock up front (SQLite)."""
    return engine.execution_options(kiosk_write=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def null_pool_engine(url: str) -> Engine:
    """An engine without a pool, for one-off CLI work and tests that fork."""
    return make_engine(url, poolclass=NullPool)


def wal_deleted(engine: Engine) -> bool:
    """SQLite, asked while a connection of ``engine`` is open (so its ``-wal`` file exists):
    has that file been deleted under it? (Someone tidying up, a clean-up script.) SQLite then
    writes every commit to a file nobody can open again: gone at a power cut."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    return bool(path) and not os.path.exists(f"{path}-wal")


def rescue_deleted_wal(engine: Engine) -> None:
    """After ``wal_deleted``: copy everything in the deleted ``-wal`` file into the database
    file (a checkpoint, through a connection that still has it open: none opened since, or
    the file would be there again), then close the pool's connections, so that the next one
    starts a new ``-wal`` file where every process looks for it."""
    log.error("the database's -wal file was deleted while the kiosk had it open: checkpointing")
    raw = engine.raw_connection()
    try:
        busy, _frames, _done = raw.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    finally:
        raw.close()
    engine.dispose()
    if busy:
        log.error("the checkpoint could not finish: another process is reading the database")
