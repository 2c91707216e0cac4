"""ringdb for Python: an embedded, self-caching key-value store.

A thin, Pythonic layer over ringdb's C API (include/ringdb/c.h), loaded with
ctypes from the shared library libringdb.so. ctypes releases the GIL for
the duration of every call into the library, so threads that read and
write overlap their I/O.

    import ringdb
    with ringdb.open("/tmp/example.db", pool="64MiB") as db:
        db[b"k"] = b"v"
        print(db[b"k"])                      # b'v'
        with db.batch() as b:                # applied atomically on exit
            b.put(b"a", b"1")
            b.delete(b"k")
        for key, value in db.items(prefix=b"a"):
            print(key, value)

Keys and values are bytes (any bytes, NUL included). A str is accepted
wherever a key or value is expected and is encoded as UTF-8; results are
always bytes. Errors are ringdb.Error subclasses carrying the status code
(``err.code``, e.g. "Corruption"); a missing key is KeyError for
``db[key]`` and None (or the default) for ``db.get``.

The library is found, in order: $RINGDB_LIBRARY; the path written into
_libpath.py at install time; libringdb.so next to this package's lib
directory; the system's library search path.
"""

import ctypes
import ctypes.util
import os
import re
from contextlib import contextmanager

__all__ = [
    "open", "DB", "Batch", "Snapshot", "Error", "NotFoundError", "CorruptionError",
    "InvalidArgumentError", "IoError", "NoSpaceError", "BusyError",
    "NotSupportedError", "version", "parse_size",
]


# ---- errors -----------------------------------------------------------------

class Error(Exception):
    """A failed ringdb call. ``code`` is the status code name."""

    code = "Error"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotFoundError(Error):
    code = "NotFound"


class CorruptionError(Error):
    code = "Corruption"


class InvalidArgumentError(Error):
    code = "Invalid argument"


class IoError(Error):
    code = "IO error"


class NoSpaceError(IoError):
    code = "No space"


class BusyError(Error):
    code = "Busy"


class NotSupportedError(Error):
    code = "Not supported"


_ERRORS = {cls.code: cls for cls in (NotFoundError, CorruptionError, InvalidArgumentError,
                                    IoError, NoSpaceError, BusyError, NotSupportedError)}


def _error_from(message):
    code, sep, _ = message.partition(": ")
    cls = _ERRORS.get(code, Error) if sep else Error
    return cls(message)


# ---- the library ------------------------------------------------------------

def _find_library():
    env = os.environ.get("RINGDB_LIBRARY")
    if env:
        return env
    try:
        from . import _libpath  # written by `cmake --install`
        if os.path.exists(_libpath.LIBRARY):
            return _libpath.LIBRARY
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    # PREFIX/lib/python3/dist-packages/ringdb -> PREFIX/lib
    lib = os.path.normpath(os.path.join(here, "..", "..", ".."))
    for candidate in (os.path.join(lib, "libringdb.so"),):
        if os.path.exists(candidate):
            return candidate
    found = ctypes.util.find_library("ringdb")
    if found:
        return found
    raise ImportError("ringdb: libringdb.so not found; set RINGDB_LIBRARY to its path")


_lib = ctypes.CDLL(_find_library())

_c_char_pp = ctypes.POINTER(ctypes.c_char_p)
_errp = ctypes.POINTER(ctypes.c_void_p)
_size_p = ctypes.POINTER(ctypes.c_size_t)
_vp = ctypes.c_void_p


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_options_create = _fn("ringdb_options_create", _vp)
_options_destroy = _fn("ringdb_options_destroy", None, _vp)
_set_create = _fn("ringdb_options_set_create_if_missing", None, _vp, ctypes.c_ubyte)
_set_exists = _fn("ringdb_options_set_error_if_exists", None, _vp, ctypes.c_ubyte)
_set_read_only = _fn("ringdb_options_set_read_only", None, _vp, ctypes.c_ubyte)
_set_pool = _fn("ringdb_options_set_buffer_pool_bytes", None, _vp, ctypes.c_size_t)
_set_policy = _fn("ringdb_options_set_eviction_policy", None, _vp, ctypes.c_char_p)
_set_backend = _fn("ringdb_options_set_io_backend", None, _vp, ctypes.c_int)
_set_lock = _fn("ringdb_options_set_lock_pool_memory", None, _vp, ctypes.c_ubyte)
_set_quiet = _fn("ringdb_options_set_quiet", None, _vp, ctypes.c_ubyte)
_set_reserve = _fn("ringdb_options_set_reserved_disk_bytes", None, _vp, ctypes.c_uint64)
_set_row_cache = _fn("ringdb_options_set_row_cache_bytes", None, _vp, ctypes.c_uint64)
_set_delete_buffer = _fn("ringdb_options_set_delete_buffer_bytes", None, _vp, ctypes.c_uint64)
_set_compact_fill = _fn("ringdb_options_set_compact_leaf_fill", None, _vp, ctypes.c_double)
_set_idle_ms = _fn("ringdb_options_set_idle_compact_ms", None, _vp, ctypes.c_uint32)
_set_idle_fill = _fn("ringdb_options_set_idle_compact_fill", None, _vp, ctypes.c_double)
_set_idle_min = _fn("ringdb_options_set_idle_compact_min_bytes", None, _vp, ctypes.c_uint64)
_set_auto_resume = _fn("ringdb_options_set_auto_resume_interval_ms", None, _vp,
                       ctypes.c_uint32)
_readoptions_create = _fn("ringdb_readoptions_create", _vp)
_readoptions_destroy = _fn("ringdb_readoptions_destroy", None, _vp)
_readoptions_set_snapshot = _fn("ringdb_readoptions_set_snapshot", None, _vp, _vp)
_snapshot_create = _fn("ringdb_create_snapshot", _vp, _vp)
_snapshot_release = _fn("ringdb_release_snapshot", None, _vp, _vp)
_writeoptions_create = _fn("ringdb_writeoptions_create", _vp)
_writeoptions_destroy = _fn("ringdb_writeoptions_destroy", None, _vp)
_set_sync = _fn("ringdb_writeoptions_set_sync", None, _vp, ctypes.c_ubyte)
_open = _fn("ringdb_open", _vp, _vp, ctypes.c_char_p, _errp)
_close = _fn("ringdb_close_with_error", None, _vp, _errp)
_destroy_db = _fn("ringdb_destroy_db", None, _vp, ctypes.c_char_p, _errp)
_put = _fn("ringdb_put", None, _vp, _vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
           ctypes.c_size_t, _errp)
_delete = _fn("ringdb_delete", None, _vp, _vp, ctypes.c_char_p, ctypes.c_size_t, _errp)
_write = _fn("ringdb_write", None, _vp, _vp, _vp, _errp)
_get = _fn("ringdb_get", _vp, _vp, _vp, ctypes.c_char_p, ctypes.c_size_t, _size_p, _errp)
_multi_get = _fn("ringdb_multi_get", None, _vp, _vp, ctypes.c_size_t, _c_char_pp, _size_p,
                 ctypes.POINTER(_vp), _size_p, ctypes.POINTER(_vp))
_batch_create = _fn("ringdb_writebatch_create", _vp)
_batch_destroy = _fn("ringdb_writebatch_destroy", None, _vp)
_batch_put = _fn("ringdb_writebatch_put", None, _vp, ctypes.c_char_p, ctypes.c_size_t,
                 ctypes.c_char_p, ctypes.c_size_t)
_batch_delete = _fn("ringdb_writebatch_delete", None, _vp, ctypes.c_char_p, ctypes.c_size_t)
_batch_count = _fn("ringdb_writebatch_count", ctypes.c_int, _vp)
_iter_create = _fn("ringdb_create_iterator", _vp, _vp, _vp)
_iter_destroy = _fn("ringdb_iter_destroy", None, _vp)
_iter_valid = _fn("ringdb_iter_valid", ctypes.c_ubyte, _vp)
_iter_first = _fn("ringdb_iter_seek_to_first", None, _vp)
_iter_last = _fn("ringdb_iter_seek_to_last", None, _vp)
_iter_seek = _fn("ringdb_iter_seek", None, _vp, ctypes.c_char_p, ctypes.c_size_t)
_iter_seek_prev = _fn("ringdb_iter_seek_for_prev", None, _vp, ctypes.c_char_p, ctypes.c_size_t)
_iter_next = _fn("ringdb_iter_next", None, _vp)
_iter_prev = _fn("ringdb_iter_prev", None, _vp)
_iter_key = _fn("ringdb_iter_key", _vp, _vp, _size_p)
_iter_value = _fn("ringdb_iter_value", _vp, _vp, _size_p)
_iter_error = _fn("ringdb_iter_get_error", None, _vp, _errp)
_checkpoint = _fn("ringdb_checkpoint", None, _vp, _errp)
_compact = _fn("ringdb_compact", None, _vp, _errp)
_compact_if_sparse = _fn("ringdb_compact_if_sparse", ctypes.c_ubyte, _vp, _errp)
_resume = _fn("ringdb_resume", None, _vp, _errp)
_verify = _fn("ringdb_verify", _vp, _vp, _errp)
_backup = _fn("ringdb_backup", None, _vp, ctypes.c_char_p, _errp)
_property = _fn("ringdb_property_value", _vp, _vp, ctypes.c_char_p)
_free = _fn("ringdb_free", None, _vp)
_version = _fn("ringdb_version", ctypes.c_char_p)

_BACKENDS = {"io_uring": 0, "pread": 1, "buffered": 2}
# Options::kAutoRowCacheBytes (RINGDB_ROW_CACHE_BYTES_AUTO).
ROW_CACHE_AUTO = 2**64 - 1


def version():
    """The library's version string, e.g. 'ringdb 0.1.0'."""
    return _version().decode()


def _bytes(x, what="key"):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError(f"ringdb: {what} must be bytes or str, not {type(x).__name__}")


def _take(ptr, length):
    """Copies a library-allocated buffer into bytes and frees it."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr, length)
    finally:
        _free(ptr)


def _errptr():
    """An errptr slot: the library may store a malloc'd message in it."""
    return ctypes.c_void_p(None)


def _raise_if(err, extra=""):
    if err.value:
        message = ctypes.string_at(err.value).decode("utf-8", "replace")
        _free(err)
        raise _error_from(message + extra)


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(size):
    """Bytes from an int or a string such as '64MiB', '1.5G', '4096'."""
    if isinstance(size, int):
        return size
    m = _SIZE_RE.match(str(size))
    if not m:
        raise ValueError(f"ringdb: cannot read size {size!r} (use e.g. 64MiB)")
    number, unit = float(m.group(1)), m.group(2).lower()
    return int(number * (1024 ** " kmgt".index(unit or " ")))


# ---- the database -----------------------------------------------------------

class Batch:
    """Writes collected and applied together by DB.write (or DB.batch)."""

    def __init__(self):
        self._h = _batch_create()

    def put(self, key, value):
        k, v = _bytes(key), _bytes(value, "value")
        _batch_put(self._h, k, len(k), v, len(v))

    def delete(self, key):
        k = _bytes(key)
        _batch_delete(self._h, k, len(k))

    def __len__(self):
        return _batch_count(self._h)

    def __del__(self):
        if getattr(self, "_h", None):
            _batch_destroy(self._h)
            self._h = None


class Snapshot:
    """A consistent point-in-time view of a DB (DB.snapshot()). Pass it as
    ``snapshot=`` to DB.get, DB.multi_get and DB.items, or use its own
    get/multi_get/items. Release it with release() or a with block; the
    values later writes replace are kept in memory until then."""

    def __init__(self, db):
        self._db = db
        self._h = _snapshot_create(db._db())
        if not self._h:
            raise InvalidArgumentError("ringdb: database is closed")
        self._ro = _readoptions_create()
        _readoptions_set_snapshot(self._ro, self._h)

    def release(self):
        if self._h:
            if self._db._h:
                _snapshot_release(self._db._h, self._h)
            _readoptions_destroy(self._ro)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass

    def _options(self):
        if not self._h:
            raise InvalidArgumentError("ringdb: snapshot was released")
        return self._ro

    def get(self, key, default=None):
        return self._db.get(key, default, snapshot=self)

    def multi_get(self, keys):
        return self._db.multi_get(keys, snapshot=self)

    def items(self, **kw):
        return self._db.items(snapshot=self, **kw)


class DB:
    """An open ringdb database; see ringdb.open. Safe to share across threads."""

    def __init__(self, path, pool="64MiB", create=True, error_if_exists=False,
                 read_only=False, policy=None, io_backend=None, lock_memory=True,
                 quiet=True, reserved_disk_bytes=None, auto_resume_interval_ms=None,
                 row_cache=None, delete_buffer=None, compact_leaf_fill=None,
                 idle_compact_ms=None, idle_compact_fill=None, idle_compact_min_bytes=None):
        self._h = None
        opts = _options_create()
        try:
            _set_create(opts, 1 if create else 0)
            _set_exists(opts, 1 if error_if_exists else 0)
            _set_read_only(opts, 1 if read_only else 0)
            _set_pool(opts, parse_size(pool))
            _set_lock(opts, 1 if lock_memory else 0)
            _set_quiet(opts, 1 if quiet else 0)
            if policy is not None:
                _set_policy(opts, _bytes(policy, "policy"))
            if reserved_disk_bytes is not None:
                _set_reserve(opts, parse_size(reserved_disk_bytes))
            if auto_resume_interval_ms is not None:
                _set_auto_resume(opts, int(auto_resume_interval_ms))
            if row_cache is not None:
                _set_row_cache(opts, ROW_CACHE_AUTO if row_cache == "auto"
                               else parse_size(row_cache))
            if delete_buffer is not None:
                _set_delete_buffer(opts, parse_size(delete_buffer))
            if compact_leaf_fill is not None:
                _set_compact_fill(opts, float(compact_leaf_fill))
            if idle_compact_ms is not None:
                _set_idle_ms(opts, int(idle_compact_ms))
            if idle_compact_fill is not None:
                _set_idle_fill(opts, float(idle_compact_fill))
            if idle_compact_min_bytes is not None:
                _set_idle_min(opts, parse_size(idle_compact_min_bytes))
            if io_backend is not None:
                if io_backend not in _BACKENDS:
                    raise ValueError(f"ringdb: io_backend must be one of {sorted(_BACKENDS)}")
                _set_backend(opts, _BACKENDS[io_backend])
            err = _errptr()
            h = _open(opts, os.fsencode(path), ctypes.byref(err))
            _raise_if(err)
            self._h = h
        finally:
            _options_destroy(opts)
        self.path = path
        self._ro = _readoptions_create()
        self._wo = _writeoptions_create()
        self._wo_sync = _writeoptions_create()
        _set_sync(self._wo_sync, 1)

    # -- lifetime
    def close(self):
        """Checkpoints and closes. Further calls raise InvalidArgumentError."""
        if self._h is None:
            return
        h, self._h = self._h, None
        for o, destroy in ((self._ro, _readoptions_destroy), (self._wo, _writeoptions_destroy),
                           (self._wo_sync, _writeoptions_destroy)):
            destroy(o)
        err = _errptr()
        _close(h, ctypes.byref(err))
        _raise_if(err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_h", None):
            try:
                self.close()
            except Error:
                pass

    def _db(self):
        if self._h is None:
            raise InvalidArgumentError("Invalid argument: database is closed")
        return self._h

    # -- writes
    def put(self, key, value, sync=False):
        k, v = _bytes(key), _bytes(value, "value")
        err = _errptr()
        _put(self._db(), self._wo_sync if sync else self._wo, k, len(k), v, len(v),
             ctypes.byref(err))
        _raise_if(err)

    def delete(self, key, sync=False):
        k = _bytes(key)
        err = _errptr()
        _delete(self._db(), self._wo_sync if sync else self._wo, k, len(k), ctypes.byref(err))
        _raise_if(err)

    def write(self, batch, sync=False):
        err = _errptr()
        _write(self._db(), self._wo_sync if sync else self._wo, batch._h, ctypes.byref(err))
        _raise_if(err)

    @contextmanager
    def batch(self, sync=False):
        """A Batch applied atomically when the block exits cleanly, dropped
        when it raises."""
        b = Batch()
        yield b
        self.write(b, sync=sync)

    def __setitem__(self, key, value):
        self.put(key, value)

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        self.delete(key)

    # -- reads
    def snapshot(self):
        """A Snapshot of the database as it is now (with-block friendly)."""
        return Snapshot(self)

    def _read_options(self, snapshot):
        return self._ro if snapshot is None else snapshot._options()

    def get(self, key, default=None, snapshot=None):
        k = _bytes(key)
        n = ctypes.c_size_t(0)
        err = _errptr()
        ptr = _get(self._db(), self._read_options(snapshot), k, len(k), ctypes.byref(n),
                   ctypes.byref(err))
        _raise_if(err)
        if not ptr:
            return default
        return _take(ptr, n.value)

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        return self.get(key) is not None

    def multi_get(self, keys, snapshot=None):
        """Values for all keys (None where missing), read with one batch of I/O,
        all as of one snapshot."""
        ks = [_bytes(k) for k in keys]
        n = len(ks)
        if n == 0:
            return []
        keys_arr = (ctypes.c_char_p * n)(*ks)
        sizes = (ctypes.c_size_t * n)(*[len(k) for k in ks])
        values = (_vp * n)()
        value_sizes = (ctypes.c_size_t * n)()
        errs = (_vp * n)()
        _multi_get(self._db(), self._read_options(snapshot), n, keys_arr, sizes, values, value_sizes, errs)
        out, first_error = [], None
        for i in range(n):
            value = _take(values[i], value_sizes[i])
            if errs[i]:
                message = ctypes.string_at(errs[i]).decode("utf-8", "replace")
                _free(errs[i])
                first_error = first_error or message
                value = None
            out.append(value)
        if first_error is not None:
            raise _error_from(first_error)
        return out

    def items(self, start=None, stop=None, reverse=False, prefix=None, snapshot=None):
        """(key, value) pairs in key order (descending with reverse=True),
        from start (inclusive) to stop (exclusive), optionally only keys
        starting with prefix; as of `snapshot`, else as of the first step
        (the iterator is a snapshot of its own)."""
        lo = _bytes(start) if start is not None else None
        hi = _bytes(stop) if stop is not None else None
        pre = _bytes(prefix) if prefix is not None else None
        if pre is not None:
            lo = pre if lo is None or lo < pre else lo
        it = _iter_create(self._db(), self._read_options(snapshot))
        try:
            if not reverse:
                if lo is None:
                    _iter_first(it)
                else:
                    _iter_seek(it, lo, len(lo))
            else:
                if hi is not None:
                    _iter_seek(it, hi, len(hi))
                    if _iter_valid(it):
                        _iter_prev(it)
                    else:
                        _iter_last(it)
                elif pre is not None and _prefix_end(pre) is not None:
                    end = _prefix_end(pre)
                    _iter_seek(it, end, len(end))
                    if _iter_valid(it):
                        _iter_prev(it)
                    else:
                        _iter_last(it)
                else:
                    _iter_last(it)
            n = ctypes.c_size_t(0)
            while _iter_valid(it):
                kp = _iter_key(it, ctypes.byref(n))
                key = ctypes.string_at(kp, n.value)
                if not reverse and hi is not None and key >= hi:
                    break
                if reverse and lo is not None and key < lo:
                    break
                if pre is not None and not key.startswith(pre):
                    break
                vp = _iter_value(it, ctypes.byref(n))
                value = ctypes.string_at(vp, n.value)
                yield key, value
                if reverse:
                    _iter_prev(it)
                else:
                    _iter_next(it)
            err = _errptr()
            _iter_error(it, ctypes.byref(err))
            _raise_if(err)
        finally:
            _iter_destroy(it)

    def keys(self, **kw):
        return (k for k, _ in self.items(**kw))

    def values(self, **kw):
        return (v for _, v in self.items(**kw))

    def __iter__(self):
        return self.keys()

    # -- maintenance and insight
    def checkpoint(self):
        err = _errptr()
        _checkpoint(self._db(), ctypes.byref(err))
        _raise_if(err)

    def compact(self):
        """Packs the leaves (to compact_leaf_fill, 1 by default) and moves
        pages down so the data file shrinks to about what the data needs.
        Readers go on; writers wait for short steps of it."""
        err = _errptr()
        _compact(self._db(), ctypes.byref(err))
        _raise_if(err)

    def compact_if_sparse(self):
        """Runs compact() when the sampled leaf fill is below
        idle_compact_fill and the live pages take at least idle_compact_min_bytes
        (what the idle compactor does once writes stop). Returns whether it
        compacted."""
        err = _errptr()
        ran = _compact_if_sparse(self._db(), ctypes.byref(err))
        _raise_if(err)
        return bool(ran)

    def resume(self):
        """Accepts writes again after a soft write error (a full disk, an I/O
        error): retries the failed log and page writes with a checkpoint
        (DB::Resume). Raises the new error (NoSpaceError, IoError) when it
        fails again, InvalidArgumentError after a fatal error (reopen) or on
        a read-only database; returns when writes are accepted."""
        err = _errptr()
        _resume(self._db(), ctypes.byref(err))
        _raise_if(err)

    def backup(self, directory):
        """An online, consistent copy in `directory` (new or empty) while
        other threads keep reading and writing (DB::Backup)."""
        err = _errptr()
        _backup(self._db(), os.fsencode(directory), ctypes.byref(err))
        _raise_if(err)

    def verify(self):
        """Checks every page; raises CorruptionError (with the report) on damage."""
        err = _errptr()
        ptr = _verify(self._db(), ctypes.byref(err))
        report = _take(ptr, len(ctypes.string_at(ptr))).decode() if ptr else ""
        _raise_if(err, "\n" + report if report else "")
        return report

    def property(self, name):
        """A property's value as str ('ringdb.stats', 'ringdb.pool.hits', ...),
        or None for an unknown name."""
        ptr = _property(self._db(), _bytes(name, "property name"))
        if not ptr:
            return None
        return _take(ptr, len(ctypes.string_at(ptr))).decode("utf-8", "replace")

    def stats(self):
        """Every single-valued property as a dict: numbers as int or float."""
        out = {}
        for name in (self.property("ringdb.properties") or "").split():
            if name in ("ringdb.stats", "ringdb.properties", "ringdb.notices"):
                continue
            value = self.property(name)
            if value is None:
                continue
            for conv in (int, float):
                try:
                    value = conv(value)
                    break
                except ValueError:
                    pass
            out[name[len("ringdb."):] if name.startswith("ringdb.") else name] = value
        return out


def _prefix_end(prefix):
    """The smallest key greater than every key starting with prefix, or None."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)


def open(path, **options):  # noqa: A001 - mirrors the built-in's role
    """Opens (creating by default) the database in directory `path`.

    Options: pool (bytes or '64MiB'), create, error_if_exists, read_only,
    policy ('lru', 'clock', 'midpoint', 'sieve', 's3fifo'), io_backend
    ('io_uring', 'pread', 'buffered'), lock_memory, quiet,
    reserved_disk_bytes (free space kept on the file system, bytes or '8MiB';
    0 turns the check off; default: min(64MiB, 1/8 of the file system)),
    auto_resume_interval_ms (0: call DB.resume yourself; default 1000),
    row_cache (bytes or '16MiB' for a cache of hot key-value pairs for get,
    on top of the pool; 0: off; default 'auto': the engine gives it up to a
    quarter of the pool's budget while skewed gets gain from it),
    delete_buffer (bytes or '4MiB' of
    deletes kept in memory when their page is not cached; 0 turns it off;
    default: a quarter of the pool), compact_leaf_fill (how full DB.compact
    packs each leaf, 0.5 to 1; default 1), idle_compact_ms (after this long
    without writes a background thread compacts a sparse tree; 0: off;
    default 1000), idle_compact_fill (sparse: sampled leaf fill below this;
    default 0.9), idle_compact_min_bytes (bytes or '32MiB': smaller trees
    are left alone; default 32MiB).
    """
    return DB(path, **options)


def destroy(path):
    """Deletes the database in `path`; BusyError while it is open anywhere."""
    err = _errptr()
    _destroy_db(None, os.fsencode(path), ctypes.byref(err))
    _raise_if(err)
