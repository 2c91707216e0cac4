"""Tests of the Python package (python/ringdb) against the real library.

Run by scripts/test.sh as: RINGDB_LIBRARY=build/libringdb.so
PYTHONPATH=python python3 -m pytest python/tests
"""

import random
import threading

import pytest

import ringdb


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "db")


@pytest.fixture
def db(path):
    with ringdb.open(path, pool="1MiB", lock_memory=False) as d:
        yield d


def test_version():
    assert ringdb.version().startswith("ringdb ")


def test_parse_size():
    assert ringdb.parse_size("64MiB") == 64 << 20
    assert ringdb.parse_size("4096") == 4096
    assert ringdb.parse_size("1.5k") == 1536
    assert ringdb.parse_size(123) == 123
    with pytest.raises(ValueError):
        ringdb.parse_size("lots")


def test_mapping_protocol(db):
    db[b"k"] = b"v"
    assert db[b"k"] == b"v"
    assert b"k" in db and b"missing" not in db
    assert db.get(b"missing") is None
    assert db.get(b"missing", b"dflt") == b"dflt"
    with pytest.raises(KeyError):
        db[b"missing"]
    del db[b"k"]
    assert b"k" not in db
    with pytest.raises(KeyError):
        del db[b"k"]


def test_str_keys_are_utf8_and_results_are_bytes(db):
    db["clé"] = "valeur"
    assert db["clé".encode()] == "valeur".encode()
    assert db.get("clé") == "valeur".encode()
    with pytest.raises(TypeError):
        db[42] = b"x"


def test_binary_keys_and_values_with_nul_bytes(db):
    key, value = b"a\x00b\xff", b"\x00\x01\x00"
    db.put(key, value, sync=True)
    assert db[key] == value
    assert db.get(b"a") is None
    db[b"empty"] = b""
    assert db[b"empty"] == b""
    assert list(db.items()) == [(key, value), (b"empty", b"")]


def test_batch_is_applied_on_clean_exit_and_dropped_on_exception(db):
    db[b"gone"] = b"1"
    with db.batch() as b:
        b.put(b"a", b"1")
        b.put(b"b", b"2")
        b.delete(b"gone")
        assert len(b) == 3
    assert db[b"a"] == b"1" and db[b"b"] == b"2" and b"gone" not in db
    with pytest.raises(RuntimeError):
        with db.batch() as b:
            b.put(b"c", b"3")
            raise RuntimeError("boom")
    assert b"c" not in db


def test_multi_get(db):
    for i in range(50):
        db[b"k%02d" % i] = b"v%02d" % i
    got = db.multi_get([b"k01", b"nope", b"k49", "k10"])
    assert got == [b"v01", None, b"v49", b"v10"]
    assert db.multi_get([]) == []
    with pytest.raises(ringdb.InvalidArgumentError):
        db.multi_get([b"x" * 5000])


def test_items_ranges_reverse_and_prefix(db):
    keys = [b"a1", b"a2", b"a3", b"b1", b"b2", b"c\xff"]
    for k in keys:
        db[k] = k.upper()
    assert [k for k, _ in db.items()] == keys
    assert list(db.keys(reverse=True)) == keys[::-1]
    assert list(db.keys(start=b"a2", stop=b"b2")) == [b"a2", b"a3", b"b1"]
    assert list(db.keys(start=b"a2", stop=b"b2", reverse=True)) == [b"b1", b"a3", b"a2"]
    assert list(db.keys(prefix=b"a")) == [b"a1", b"a2", b"a3"]
    assert list(db.keys(prefix=b"a", reverse=True)) == [b"a3", b"a2", b"a1"]
    assert list(db.keys(prefix=b"c\xff", reverse=True)) == [b"c\xff"]
    assert list(db.keys(prefix=b"zz")) == []
    assert dict(db.items(prefix=b"b")) == {b"b1": b"B1", b"b2": b"B2"}
    assert list(iter(db)) == keys


def test_errors_carry_their_code(db, path):
    with pytest.raises(ringdb.InvalidArgumentError) as e:
        db.put(b"x" * 5000, b"v")
    assert e.value.code == "Invalid argument"
    assert "4096" in str(e.value)
    db[b"still"] = b"usable"
    with pytest.raises(ringdb.BusyError) as busy:
        ringdb.open(path, lock_memory=False)
    assert isinstance(busy.value, ringdb.Error)
    with pytest.raises(ringdb.BusyError):
        ringdb.destroy(path)
    with pytest.raises(ringdb.InvalidArgumentError):
        ringdb.open(path + "-missing", create=False)
    with pytest.raises(ringdb.InvalidArgumentError):
        ringdb.open(path + "-bad-policy", policy="nope")


def test_stats_checkpoint_verify_and_properties(db):
    for i in range(200):
        db[b"key%03d" % i] = b"x" * 100
    db.checkpoint()
    assert db.verify() == ""
    st = db.stats()
    assert st["pool.frames"] == 256
    assert isinstance(st["pool.hit_ratio"], float)
    assert st["io.backend"] in ("io_uring", "pread")
    assert "pool:" in db.property("ringdb.stats")
    assert db.property("ringdb.nope") is None


def test_compact_packs_leaves_and_keeps_every_key(path):
    import random
    keys = list(range(5000))
    random.Random(5).shuffle(keys)
    with ringdb.open(path, pool="1MiB", lock_memory=False) as d:
        for i in keys:
            d[b"k%06d" % i] = b"v" * (50 + i % 100)
        def leaf_fill():
            pairs = dict(p.split("=") for p in d.property("ringdb.btree.fill").split())
            return float(pairs["leaf_fill"])
        before = leaf_fill()
        d.compact()
        assert before < 0.9 < leaf_fill()
        assert d.verify() == ""
        assert [k for k, _ in d.items()] == [b"k%06d" % i for i in range(5000)]
        assert d[b"k004999"] == b"v" * (50 + 4999 % 100)
    with pytest.raises(ringdb.InvalidArgumentError):
        ringdb.open(path, compact_leaf_fill=0.2)
    with ringdb.open(path, compact_leaf_fill=0.9, lock_memory=False) as d:
        d.compact()
        assert d.verify() == ""


def test_compact_if_sparse_and_the_idle_compactor(path):
    import random
    import time
    keys = list(range(5000))
    random.Random(6).shuffle(keys)
    def leaf_fill(d):
        pairs = dict(p.split("=") for p in d.property("ringdb.btree.fill").split())
        return float(pairs["leaf_fill"])
    with ringdb.open(path, pool="1MiB", lock_memory=False, idle_compact_ms=0,
                     idle_compact_min_bytes=0) as d:
        for i in keys:
            d[b"k%06d" % i] = b"v" * (50 + i % 100)
        assert leaf_fill(d) < 0.9
        assert d.compact_if_sparse() is True
        assert leaf_fill(d) > 0.9
        assert d.compact_if_sparse() is False
        assert d.verify() == ""
    ringdb.destroy(path)
    with ringdb.open(path, pool="1MiB", lock_memory=False, idle_compact_ms=20,
                     idle_compact_min_bytes="0") as d:
        for i in keys:
            d[b"k%06d" % i] = b"v" * (50 + i % 100)
        deadline = time.monotonic() + 60
        while d.property("ringdb.compact.sparse_compactions") != "1":
            assert time.monotonic() < deadline, "no idle compaction within 60 s"
            time.sleep(0.01)
        assert leaf_fill(d) > 0.9
        assert [k for k, _ in d.items()] == [b"k%06d" % i for i in range(5000)]
    with pytest.raises(ringdb.InvalidArgumentError):
        ringdb.open(path, idle_compact_fill=2)


def test_row_cache_and_delete_buffer_options(path):
    with ringdb.open(path, pool="1MiB", lock_memory=False, row_cache="256KiB",
                     delete_buffer="64KiB") as d:
        d[b"k"] = b"v"
        assert d[b"k"] == b"v"
        assert d[b"k"] == b"v"
        st = d.stats()
        assert st["row_cache.capacity"] == 256 << 10
        assert st["row_cache.hits"] >= 1
        assert st["delete_buffer.max_bytes"] == 64 << 10
        del d[b"k"]
        assert d.get(b"k") is None
    # The default splits the pool's budget with the row cache (from 512
    # pages); 0 turns it off.
    with ringdb.open(path, pool="4MiB", lock_memory=False) as d:
        st = d.stats()
        assert st["row_cache.adaptive"] == 1
        assert st["pool.bytes"] + st["row_cache.capacity"] == 4 << 20
    with ringdb.open(path, pool="4MiB", lock_memory=False, row_cache=0) as d:
        assert d.stats()["row_cache.adaptive"] == 0
    with ringdb.open(path, pool="4MiB", lock_memory=False, row_cache="auto") as d:
        assert d.stats()["row_cache.adaptive"] == 1


def test_resume_after_no_space(path):
    # A reserve larger than any disk: every write is refused with NoSpace and
    # the database turns read-only until resume() succeeds.
    with ringdb.open(path, lock_memory=False) as d:
        d[b"before"] = b"kept"
    with ringdb.open(path, lock_memory=False, reserved_disk_bytes=1 << 62,
                     auto_resume_interval_ms=0) as d:
        with pytest.raises(ringdb.NoSpaceError) as e:
            d[b"refused"] = b"x"
        assert "reserved_disk_bytes" in str(e.value)
        assert "No space" in d.property("ringdb.background_error")
        assert d.property("ringdb.read_only_reason") != ""
        with pytest.raises(ringdb.NoSpaceError):
            d.resume()  # still no room: the error stays, soft
        with pytest.raises(ringdb.NoSpaceError):
            d[b"refused2"] = b"x"
        assert d[b"before"] == b"kept"  # reads go on
    with ringdb.open(path, lock_memory=False, auto_resume_interval_ms=0) as d:
        d.resume()  # nothing to resume: returns
        assert d.property("ringdb.background_error") == "OK"
        d[b"after"] = b"ok"
        assert d[b"before"] == b"kept"
        assert b"refused" not in d and b"refused2" not in d
    with ringdb.open(path, read_only=True, lock_memory=False) as r:
        with pytest.raises(ringdb.InvalidArgumentError):
            r.resume()


def test_close_and_reopen_read_only(path):
    with ringdb.open(path, lock_memory=False) as d:
        d.put(b"k", b"v", sync=True)
    d.close()  # a second close is harmless
    with pytest.raises(ringdb.InvalidArgumentError):
        d[b"k"]
    with ringdb.open(path, read_only=True, lock_memory=False) as r:
        assert r[b"k"] == b"v"
        with pytest.raises(ringdb.InvalidArgumentError):
            r[b"k2"] = b"v2"
    ringdb.destroy(path)
    with pytest.raises(ringdb.InvalidArgumentError):
        ringdb.open(path, create=False)


def test_model_against_a_dict(path):
    rng = random.Random(7)
    model = {}
    with ringdb.open(path, pool="256KiB", lock_memory=False, policy="s3fifo") as d:
        for step in range(4000):
            k = b"key%04d" % rng.randrange(600)
            r = rng.random()
            if r < 0.55:
                v = bytes(rng.getrandbits(8) for _ in range(rng.choice((5, 60, 1500))))
                d[k] = v
                model[k] = v
            elif r < 0.75:
                d.delete(k)
                model.pop(k, None)
            elif r < 0.9:
                assert d.get(k) == model.get(k)
            else:
                lo = b"key%04d" % rng.randrange(600)
                want = sorted(x for x in model if x >= lo)[:20]
                got = [x for x, _ in zip(d.keys(start=lo), range(20))]
                assert got == want
        assert dict(d.items()) == model
    with ringdb.open(path, lock_memory=False) as d:
        assert dict(d.items()) == model


def test_threads_share_one_database(db):
    errors = []

    def writer(t):
        try:
            for i in range(300):
                db[b"t%d-%03d" % (t, i)] = b"%d" % i
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader():
        try:
            for _ in range(300):
                for k, v in db.items(prefix=b"t0-"):
                    assert v == b"%d" % int(k.split(b"-")[1])
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(db.keys())) == 900


def test_backup_while_open(db, path):
    for i in range(300):
        db[b"k%03d" % i] = b"v%03d" % i
    db.backup(path + "-copy")
    db[b"after"] = b"backup"
    with pytest.raises(ringdb.InvalidArgumentError):
        db.backup(path + "-copy")
    with ringdb.open(path + "-copy", create=False, lock_memory=False) as copy:
        assert dict(copy.items()) == {b"k%03d" % i: b"v%03d" % i for i in range(300)}


def test_snapshot_reads_stay_at_their_point_in_time(db):
    db[b"a"] = b"1"
    db[b"b"] = b"1"
    with db.snapshot() as snap:
        with db.batch() as b:
            b.put(b"a", b"2")
            b.delete(b"b")
            b.put(b"c", b"2")
        assert snap.get(b"a") == b"1"
        assert db.get(b"a", snapshot=snap) == b"1"
        assert snap.multi_get([b"a", b"b", b"c"]) == [b"1", b"1", None]
        assert list(snap.items()) == [(b"a", b"1"), (b"b", b"1")]
        assert db.get(b"a") == b"2"
        assert list(db.items()) == [(b"a", b"2"), (b"c", b"2")]
        assert int(db.property("ringdb.snapshots.count")) == 1
    assert int(db.property("ringdb.snapshots.count")) == 0
    assert int(db.property("ringdb.snapshots.retained_versions")) == 0
    with pytest.raises(ringdb.InvalidArgumentError):
        snap.get(b"a")
