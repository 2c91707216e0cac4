// The delete buffer (engine/delete_buffer.h): deletes whose leaf is not
// cached are logged and kept in memory, then applied to the tree in key
// order. Every test first checks that its deletes were really buffered
// (property ringdb.delete_buffer.buffered), then that reads (Get,
// MultiGet, iterators, snapshots) see exactly the model, across
// checkpoints, a full buffer, a reopen, a kill -9, a failed apply, and a
// writer racing readers on a 16-page pool.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "engine/db_impl.h"
#include "io/fault_backend.h"
#include "tests/engine/crash_child_util.h"
#include "tests/util/key_states.h"
#include "tests/util/model_scan.h"
#include "tests/util/temp_dir.h"
#include "ringdb/db.h"

namespace ringdb {
namespace db_delete_buffer_test {

using Model = std::map<std::string, std::string>;

std::string Key(int i) { return test::NumberedKey(i); }
std::string Value(int i, int gen = 0) { return test::NumberedValue(i, gen); }

class DeleteBufferTest : public ::testing::TestWithParam<size_t> {
 protected:
  static constexpr int kKeys = 4000;  // about 130 leaves: far more than the pool

  void SetUp() override {
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = GetParam() * 4096;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    options_.delete_buffer_bytes = 1 << 20;
    options_.info_log = [](std::string_view) {};
    dir_ = tmp_.File("db");
  }
  void TearDown() override { db_.reset(); }

  void Open() {
    db_.reset();
    Status s = DB::Open(options_, dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // kKeys keys, then a reopen: the pool starts cold, so most leaves are
  // on disk only.
  void Load() {
    Open();
    for (int i = 0; i < kKeys; i++) {
      ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), Value(i)).ok());
      model_[Key(i)] = Value(i);
    }
    Open();
  }
  void Delete(const std::string& k) {
    ASSERT_TRUE(db_->Delete(WriteOptions(), k).ok());
    model_.erase(k);
  }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(db_->Put(WriteOptions(), k, v).ok());
    model_[k] = v;
  }
  uint64_t Prop(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("ringdb.delete_buffer." + name, &v)) << name;
    return std::stoull(v);
  }
  // Get, MultiGet and a forward and backward scan all match `model`.
  void Check(const Model& model, const Snapshot* snap = nullptr) {
    ReadOptions r;
    r.snapshot = snap;
    std::vector<std::string> keys;
    std::vector<std::string_view> views;
    for (int i = 0; i < kKeys; i += 7) keys.push_back(Key(i));
    for (const std::string& k : keys) views.push_back(k);
    std::vector<std::string> values;
    std::vector<Status> st = db_->MultiGet(r, views, &values);
    for (size_t i = 0; i < keys.size(); i++) {
      auto it = model.find(keys[i]);
      std::string got;
      Status g = db_->Get(r, keys[i], &got);
      if (it == model.end()) {
        EXPECT_TRUE(g.IsNotFound()) << keys[i] << ": " << g.ToString();
        EXPECT_TRUE(st[i].IsNotFound()) << keys[i] << ": " << st[i].ToString();
      } else {
        EXPECT_TRUE(g.ok() && got == it->second) << keys[i] << ": " << g.ToString();
        EXPECT_TRUE(st[i].ok() && values[i] == it->second) << keys[i] << ": " << st[i].ToString();
      }
    }
    std::unique_ptr<Iterator> it = db_->NewIterator(r);
    test::ExpectScanMatches(it.get(), model);
  }

  test::TempDir tmp_{"delete_buffer"};
  std::string dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  Model model_;
};

TEST_P(DeleteBufferTest, DeletesAreSeenAtOnceAndReachTheTreeAtCheckpoint) {
  Load();
  for (int i = 0; i < kKeys; i += 3) Delete(Key(i));
  const uint64_t buffered = Prop("buffered");
  EXPECT_GT(buffered, kKeys / 3 / 2) << "most deletes should miss the cold pool";
  EXPECT_GT(Prop("unapplied"), 0u);
  Check(model_);
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(Prop("entries"), 0u);
  EXPECT_EQ(Prop("applied"), buffered);
  Check(model_);
  std::string report;
  ASSERT_TRUE(db_->Verify(&report).ok()) << report;
  Open();
  Check(model_);
}

TEST_P(DeleteBufferTest, APutAfterABufferedDeleteWins) {
  Load();
  for (int i = 0; i < kKeys; i += 5) Delete(Key(i));
  ASSERT_GT(Prop("entries"), 0u);
  for (int i = 0; i < kKeys; i += 10) Put(Key(i), Value(i, 1));
  Check(model_);
  for (int i = 0; i < kKeys; i += 20) Delete(Key(i));  // and deleted again
  Check(model_);
  ASSERT_TRUE(db_->Checkpoint().ok());
  Check(model_);
  Open();
  Check(model_);
}

TEST_P(DeleteBufferTest, SnapshotsSeeTheirStateWhileDeletesAreApplied) {
  Load();
  for (int i = 0; i < kKeys; i += 3) Delete(Key(i));
  ASSERT_GT(Prop("entries"), 0u);
  const Model at_snap = model_;
  const Snapshot* snap = db_->GetSnapshot();
  // With a snapshot open, deletes go to the tree (the snapshot needs the
  // values they replace).
  const uint64_t buffered = Prop("buffered");
  for (int i = 1; i < kKeys; i += 9) Delete(Key(i));
  EXPECT_EQ(Prop("buffered"), buffered);
  for (int i = 0; i < kKeys; i += 12) Put(Key(i), Value(i, 2));  // buffered keys come back
  // The checkpoint applies every buffered delete; the snapshot still
  // holds leaf states from before, so the entries stay, applied.
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(Prop("unapplied"), 0u);
  EXPECT_GT(Prop("entries"), 0u);
  Check(at_snap, snap);
  Check(model_);
  db_->ReleaseSnapshot(snap);
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(Prop("entries"), 0u);
  Check(model_);
}

TEST_P(DeleteBufferTest, AFullBufferIsAppliedAndStaysBounded) {
  options_.delete_buffer_bytes = 40 * (DeleteBuffer::kEntryOverhead + Key(0).size());
  Load();
  // A delete that finds the buffer full applies one prefetch chunk (a
  // quarter of the pool, at least 8), not half the buffer: a short stall.
  const uint64_t chunk = std::max<uint64_t>(8, GetParam() / 4);
  std::mt19937 rng(7);
  for (int n = 0; n < 600; n++) {
    const uint64_t applied = Prop("applied");
    Delete(Key(static_cast<int>(rng() % kKeys)));
    ASSERT_LE(Prop("bytes"), options_.delete_buffer_bytes);
    ASSERT_LE(Prop("applied") - applied, chunk) << "one delete applied more than a chunk";
  }
  EXPECT_GT(Prop("buffered"), 100u);
  EXPECT_GT(Prop("applied"), 0u);
  Check(model_);
  Open();
  Check(model_);
}

TEST_P(DeleteBufferTest, ZeroBytesTurnsBufferingOff) {
  options_.delete_buffer_bytes = 0;
  Load();
  for (int i = 0; i < kKeys; i += 3) Delete(Key(i));
  EXPECT_EQ(Prop("buffered"), 0u);
  Check(model_);
}

// A kill -9 with deletes only in the buffer: the log replays them.
TEST_P(DeleteBufferTest, KillWithBufferedDeletesLosesNone) {
  Load();
  db_.reset();
  std::vector<uint32_t> acked = testing::WriteInChildThenKill(
      dir_, options_, /*kill_after=*/500, [](DB* db, uint32_t i, bool* more) {
        *more = 3 * i < kKeys;
        if (!*more) return Status::OK();
        Status s = db->Delete(WriteOptions(), Key(static_cast<int>(3 * i)));
        // The child's deletes must be buffered, or the kill tests nothing
        // new: a failed write makes the child exit 2 and the test fail.
        std::string n;
        if (s.ok() && i == 400 && db->GetProperty("ringdb.delete_buffer.unapplied", &n) &&
            std::stoull(n) < 100) {
          return Status::Corruption("only " + n + " deletes buffered in the child");
        }
        return s;
      });
  ASSERT_GE(acked.size(), 500u);
  for (uint32_t i : acked) model_.erase(Key(static_cast<int>(3 * i)));
  Open();
  // Deletes the child made after its last acknowledgement may be there or
  // not; every acknowledged one must be.
  for (uint32_t i : acked) {
    std::string v;
    EXPECT_TRUE(db_->Get(ReadOptions(), Key(static_cast<int>(3 * i)), &v).IsNotFound()) << i;
  }
  for (int i = 0; i < kKeys; i++) {
    if (i % 3 != 0) {
      std::string v;
      EXPECT_TRUE(db_->Get(ReadOptions(), Key(i), &v).ok()) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pools, DeleteBufferTest, ::testing::Values(16, 64),
                         [](const ::testing::TestParamInfo<size_t>& p) {
                           return std::to_string(p.param) + "pages";
                         });

// A read error while the checkpoint applies the buffer: the checkpoint
// fails, writes stop (the tree may hold part of a delete), and a reopen
// replays the log: every acknowledged delete is there.
TEST(DeleteBufferFaultTest, AFailedApplyStopsWritesAndReopenRecovers) {
  test::TempDir tmp("delete_buffer");
  Options options;
  options.buffer_pool_bytes = 16 * 4096;
  options.lock_pool_memory = false;
  options.auto_resume_interval_ms = 0;
  options.page_cleaner = false;
  options.info_log = [](std::string_view) {};
  const std::string dir = tmp.File("db");
  Model model;
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options, dir, &db).ok());
    for (int i = 0; i < 3000; i++) {
      ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i)).ok());
      model[Key(i)] = Value(i);
    }
  }
  auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
  std::unique_ptr<DB> db;
  ASSERT_TRUE(OpenWithBackend(options, dir, backend, &db).ok());
  for (int i = 0; i < 3000; i += 2) {
    ASSERT_TRUE(db->Delete(WriteOptions(), Key(i)).ok());
    model.erase(Key(i));
  }
  std::string v;
  ASSERT_TRUE(db->GetProperty("ringdb.delete_buffer.unapplied", &v));
  ASSERT_GT(std::stoull(v), 100u);
  io::Fault fault;
  fault.op = io::FaultOp::kRead;
  fault.nth = 5;
  fault.crash = true;  // every read fails: the prefetch is best effort, the delete is not
  backend->Arm(fault);
  Status s = db->Checkpoint();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("buffered deletes"), std::string::npos) << s.ToString();
  backend->Disarm();
  Status w = db->Put(WriteOptions(), "another", "x");
  EXPECT_FALSE(w.ok()) << "writes must stop after a half-applied delete";
  (void)db->Close();
  db.reset();
  ASSERT_TRUE(DB::Open(options, dir, &db).ok());
  for (int i = 0; i < 3000; i++) {
    Status g = db->Get(ReadOptions(), Key(i), &v);
    if (i % 2 == 0) {
      EXPECT_TRUE(g.IsNotFound()) << i << ": " << g.ToString();
    } else {
      EXPECT_TRUE(g.ok()) << i << ": " << g.ToString();
    }
  }
}

// One writer (puts and deletes of a small key space, checkpoints) against
// readers (Get, MultiGet, scans) on a 16-page pool. Each key's history is
// published after every write: a read that began and ended with no write
// to its key in between must see exactly that key's state.
// A full buffer applies a run of neighbouring keys after the last one
// applied, wrapping around: each part of the key space waits its turn.
TEST(DeleteBufferUnitTest, UnappliedFromTakesTheRunAfterTheCursor) {
  DeleteBuffer buffer(1 << 20);
  for (int i = 0; i < 10; i++) buffer.Add(Key(i * 10), Lsn(100 + i));
  std::vector<std::pair<std::string, Lsn>> out;
  buffer.UnappliedFrom(Key(35), 3, &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, Key(40));
  EXPECT_EQ(out[1].first, Key(50));
  EXPECT_EQ(out[2].first, Key(60));
  EXPECT_EQ(out[0].second, Lsn(104));
  buffer.MarkApplied(out, /*erase=*/false);  // applied entries are skipped
  buffer.UnappliedFrom(Key(35), 5, &out);  // wraps: 70, 80, 90, then 0, 10
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].first, Key(0));
  EXPECT_EQ(out[1].first, Key(10));
  EXPECT_EQ(out[2].first, Key(70));
  EXPECT_EQ(out[4].first, Key(90));
  buffer.UnappliedFrom("", 100, &out);  // all unapplied, in key order
  ASSERT_EQ(out.size(), 7u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
}

TEST(DeleteBufferConcurrencyTest, ReadersSeeEveryBufferedDeleteAtOnce) {
  test::TempDir tmp("delete_buffer");
  Options options;
  options.io_backend = IoBackendKind::kPread;
  options.buffer_pool_bytes = 16 * 4096;
  options.lock_pool_memory = false;
  options.delete_buffer_bytes = 64 * (DeleteBuffer::kEntryOverhead + 9);
  options.checkpoint_log_bytes = 256 << 10;
  options.info_log = [](std::string_view) {};
  constexpr int kN = 1500;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options, tmp.File("db"), &db).ok());
  test::KeyStates states(kN, 1, Key,
                         [](int k, uint32_t gen) { return Value(k, static_cast<int>(gen)); });
  for (int i = 0; i < kN; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i, 1)).ok());
  test::FirstError err;
  std::thread writer([&] {
    std::mt19937 rng(1);
    for (int n = 0; n < 12000 && !err.stopped(); n++) {
      int k = static_cast<int>(rng() % kN);
      const uint32_t next = states.BeginWrite(k);
      Status s = test::KeyStates::Present(next)
                     ? db->Put(WriteOptions(), Key(k), Value(k, static_cast<int>(next)))
                     : db->Delete(WriteOptions(), Key(k));
      if (!s.ok()) return err.Fail("write: " + s.ToString());
      states.Publish(k, next);
    }
    err.Stop();
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      while (!err.stopped()) {
        if (t == 0) {  // Get
          int k = static_cast<int>(rng() % kN);
          uint32_t before = states.Load(k);
          std::string v;
          Status s = db->Get(ReadOptions(), Key(k), &v);
          if (states.Load(k) == before) {
            std::string e = states.Check(k, before, s, v);
            if (!e.empty()) err.Fail("Get: " + e);
          }
        } else if (t == 1) {  // MultiGet (an implicit snapshot too)
          std::this_thread::sleep_for(std::chrono::microseconds(300));
          std::vector<std::string> keys;
          std::vector<std::string_view> views;
          std::vector<uint32_t> before;
          int first = static_cast<int>(rng() % kN);
          for (int j = 0; j < 16; j++) keys.push_back(Key((first + j * 37) % kN));
          for (int j = 0; j < 16; j++) before.push_back(states.Load((first + j * 37) % kN));
          for (const auto& k : keys) views.push_back(k);
          std::vector<std::string> values;
          std::vector<Status> st = db->MultiGet(ReadOptions(), views, &values);
          for (int j = 0; j < 16; j++) {
            int k = (first + j * 37) % kN;
            if (states.Load(k) != before[j]) continue;
            std::string e = states.Check(k, before[j], st[j], values[j]);
            if (!e.empty()) err.Fail("MultiGet: " + e);
          }
        } else {  // a scan of 200 keys, now and then: an open iterator
                  // (a snapshot) sends deletes to the tree
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          int first = static_cast<int>(rng() % (kN - 200));
          std::vector<uint32_t> before(200);
          for (int j = 0; j < 200; j++) before[j] = states.Load(first + j);
          std::vector<std::pair<std::string, std::string>> seen;
          std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
          for (it->Seek(Key(first)); it->Valid() && it->key() < Key(first + 200); it->Next()) {
            seen.emplace_back(it->key(), it->value());
          }
          if (!it->status().ok()) return err.Fail("scan: " + it->status().ToString());
          size_t p = 0;
          for (int j = 0; j < 200; j++) {
            const int k = first + j;
            const bool there = p < seen.size() && seen[p].first == Key(k);
            if (states.Load(k) == before[j]) {
              std::string e = states.Check(k, before[j], there ? Status::OK() : Status::NotFound(),
                                           there ? seen[p].second : "");
              if (!e.empty()) err.Fail("scan: " + e);
            }
            if (there) p++;
          }
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  ASSERT_EQ(err.error(), "");
  std::string v;
  ASSERT_TRUE(db->GetProperty("ringdb.delete_buffer.buffered", &v));
  EXPECT_GT(std::stoull(v), 100u) << "the deletes should have been buffered";
  for (int k = 0; k < kN; k++) {
    Status s = db->Get(ReadOptions(), Key(k), &v);
    ASSERT_EQ(states.Check(k, states.Load(k), s, v), "");
  }
}

}  // namespace db_delete_buffer_test
}  // namespace ringdb
