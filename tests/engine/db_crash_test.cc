// Crash and fault tests of the DB through io::FaultBackend: the nth write
// is torn and the "machine" dies (every later I/O fails), then a power cut
// drops every write not followed by an fdatasync (tearing some), and the
// database must reopen holding exactly a prefix of the operations that
// includes every one acknowledged with sync=true.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "engine/db_impl.h"
#include "io/fault_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_crash_test {

using Model = std::map<std::string, std::string>;

struct Op {
  enum Kind { kPut, kDelete, kBatch } kind;
  bool sync;
  std::vector<std::pair<std::string, std::string>> kv;  // value "" + del flag
  std::vector<bool> del;
};

// A small workload that overflows the pool, spans checkpoints and mixes
// sync and non-sync writes, batches, deletes and a large value.
std::vector<Op> MakeWorkload(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Op> ops;
  for (int i = 0; i < n; i++) {
    Op op;
    op.sync = rng() % 3 == 0;
    int what = rng() % 10;
    int count = what < 6 ? 1 : (what < 8 ? 1 : 4);
    op.kind = what < 6 ? Op::kPut : (what < 8 ? Op::kDelete : Op::kBatch);
    for (int k = 0; k < count; k++) {
      std::string key = "key" + std::to_string(rng() % 150);
      bool del = op.kind == Op::kDelete || (op.kind == Op::kBatch && rng() % 4 == 0);
      size_t len = (i == n / 2) ? 20000 : 50 + rng() % 400;
      std::string value = del ? "" : std::string(len, static_cast<char>('a' + rng() % 26)) +
                                         std::to_string(i);
      op.kv.emplace_back(key, value);
      op.del.push_back(del);
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

void ApplyToModel(const Op& op, Model* m) {
  for (size_t k = 0; k < op.kv.size(); k++) {
    if (op.del[k]) {
      m->erase(op.kv[k].first);
    } else {
      (*m)[op.kv[k].first] = op.kv[k].second;
    }
  }
}

Status RunOp(DB* db, const Op& op) {
  WriteOptions wo;
  wo.sync = op.sync;
  WriteBatch batch;
  for (size_t k = 0; k < op.kv.size(); k++) {
    if (op.del[k]) {
      batch.Delete(op.kv[k].first);
    } else {
      batch.Put(op.kv[k].first, op.kv[k].second);
    }
  }
  return db->Write(wo, &batch);
}

Model ReadAll(DB* db, Status* status) {
  Model m;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) m[std::string(it->key())] = it->value();
  *status = it->status();
  return m;
}

class CrashTest : public ::testing::TestWithParam<IoBackendKind> {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.io_backend = GetParam();
    options_.buffer_pool_bytes = 16 * 4096;
    options_.checkpoint_log_bytes = 24 << 10;
    options_.info_log = [](std::string_view) {};
  }

  std::shared_ptr<io::FaultBackend> NewBackend() {
    std::unique_ptr<io::IoBackend> inner;
    if (GetParam() == IoBackendKind::kIoUring) {
      Result<std::unique_ptr<io::IoBackend>> r = io::NewUringBackend(64);
      if (!r.ok()) return nullptr;
      inner = std::move(r.value());
    } else {
      inner = io::NewPreadBackend();
    }
    return std::make_shared<io::FaultBackend>(std::move(inner));
  }

  // Runs the workload with the nth write torn (0: no fault). Returns how
  // many writes the run issued. Checks recovery after the power cut.
  uint64_t CrashAt(const std::vector<Op>& ops, uint64_t nth, uint64_t seed,
                   bool kill_at_end = false) {
    std::filesystem::remove_all(dir_);
    std::shared_ptr<io::FaultBackend> backend = NewBackend();
    if (!backend) {
      ADD_FAILURE() << "no backend";
      return 0;
    }
    std::unique_ptr<DB> db;
    {
      Status s = OpenWithBackend(options_, dir_, backend, &db);
      if (!s.ok()) {
        ADD_FAILURE() << s.ToString();
        return 0;
      }
    }
    backend->TrackUnsynced(true);
    uint64_t writes_before = backend->count(io::FaultOp::kWrite);
    if (nth > 0) {
      backend->Arm(io::Fault{io::FaultOp::kWrite, nth, io::FaultKind::kTornWrite,
                             static_cast<uint32_t>(512 * (1 + seed % 7)), true});
    }
    // prefixes[i] = model after the first i ops.
    std::vector<Model> prefixes(1);
    size_t acked = 0;  // every op before this index is durable
    size_t attempted = 0;
    for (size_t i = 0; i < ops.size(); i++) {
      attempted = i + 1;
      prefixes.push_back(prefixes.back());
      ApplyToModel(ops[i], &prefixes.back());
      Status s = RunOp(db.get(), ops[i]);
      if (!s.ok()) break;
      if (ops[i].sync) acked = i + 1;
    }
    uint64_t writes = backend->count(io::FaultOp::kWrite) - writes_before;
    if (kill_at_end) {
      // kill -9: the closing checkpoint never reaches the disk.
      backend->Arm(io::Fault{io::FaultOp::kWrite, 1, io::FaultKind::kEio, 0, true});
    }
    db.reset();  // the crashed process goes away; its close fails
    Status cut = backend->PowerCut(seed, /*tear=*/true);
    EXPECT_TRUE(cut.ok()) << cut.ToString();
    backend->Disarm();

    Status s = OpenWithBackend(options_, dir_, backend, &db);
    EXPECT_TRUE(s.ok()) << "nth " << nth << ": reopen failed: " << s.ToString();
    if (!s.ok()) return writes;
    Status rs;
    Model got = ReadAll(db.get(), &rs);
    EXPECT_TRUE(rs.ok()) << rs.ToString();
    bool matched = false;
    for (size_t p = acked; p <= attempted && !matched; p++) matched = (got == prefixes[p]);
    EXPECT_TRUE(matched) << "nth " << nth << " seed " << seed << ": recovered " << got.size()
                         << " keys, not a prefix of ops with at least " << acked
                         << " acknowledged ops (attempted " << attempted << ")";
    std::string report;
    EXPECT_TRUE(db->Verify(&report).ok()) << "nth " << nth << ": " << report;
    // Still writable after recovery.
    EXPECT_TRUE(db->Put(WriteOptions(), "after", "crash").ok());
    EXPECT_TRUE(db->Close().ok());
    return writes;
  }

  test::TempDir tmp_{"crash"};
  std::string dir_;
  Options options_;
};

TEST_P(CrashTest, TornWriteAtEveryPointThenPowerCut) {
  std::vector<Op> ops = MakeWorkload(11, 120);
  uint64_t total = CrashAt(ops, 0, 1);  // a clean run counts the writes
  ASSERT_GT(total, 10u);
  // Every write of the run gets its turn to be the torn one.
  uint64_t step = total > 300 ? total / 300 + 1 : 1;
  for (uint64_t nth = 1; nth <= total; nth += step) {
    CrashAt(ops, nth, nth);
    if (HasFailure()) break;
  }
}

TEST_P(CrashTest, PowerCutWithoutFaultKeepsSyncedWrites) {
  for (uint64_t seed = 1; seed <= 10; seed++) {
    std::vector<Op> ops = MakeWorkload(seed, 80);
    CrashAt(ops, 0, seed, /*kill_at_end=*/true);
    if (HasFailure()) break;
  }
}

TEST_P(CrashTest, FaultsOnWriteAndSyncComeBackAsErrors) {
  for (io::FaultOp op : {io::FaultOp::kWrite, io::FaultOp::kSync}) {
    for (io::FaultKind kind : {io::FaultKind::kEio, io::FaultKind::kEnospc}) {
      std::filesystem::remove_all(dir_);
      std::shared_ptr<io::FaultBackend> backend = NewBackend();
      ASSERT_NE(backend, nullptr);
      std::unique_ptr<DB> db;
      ASSERT_TRUE(OpenWithBackend(options_, dir_, backend, &db).ok());
      WriteOptions sync;
      sync.sync = true;
      ASSERT_TRUE(db->Put(sync, "before", "fault").ok());
      backend->Arm(io::Fault{op, 1, kind});
      Status s = db->Put(sync, "during", "fault");
      EXPECT_FALSE(s.ok());
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      if (kind == io::FaultKind::kEnospc && op == io::FaultOp::kWrite) {
        EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
      }
      // The log is no longer trusted: writes are refused until reopen.
      EXPECT_FALSE(db->Put(WriteOptions(), "later", "x").ok());
      backend->Disarm();
      db.reset();
      Status reopen = OpenWithBackend(options_, dir_, backend, &db);
      ASSERT_TRUE(reopen.ok()) << reopen.ToString();
      std::string v;
      ASSERT_TRUE(db->Get(ReadOptions(), "before", &v).ok());
      EXPECT_EQ(v, "fault");
      EXPECT_TRUE(db->Put(sync, "later", "x").ok());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashTest,
                         ::testing::Values(IoBackendKind::kIoUring, IoBackendKind::kPread),
                         [](const auto& info) {
                           return info.param == IoBackendKind::kIoUring ? "IoUring" : "Pread";
                         });

}  // namespace db_crash_test
}  // namespace ringdb
