// Snapshots (DB::GetSnapshot, ReadOptions::snapshot, iterators as implicit
// snapshots): LevelDB's snapshot tests rewritten for ringdb, a randomized
// model test holding many snapshots against copies of a std::map, the
// version store's bounds and properties, and concurrent writers while
// snapshot readers check that they see exactly their version.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_snapshot_test {

using Model = std::map<std::string, std::string>;

class SnapshotTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = GetParam() * 4096;
    options_.info_log = [this](std::string_view msg) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_ += std::string(msg) + "\n";
    };
    Open();
  }
  void TearDown() override { db_.reset(); }
  void Open() {
    db_.reset();
    ASSERT_TRUE(DB::Open(options_, tmp_.File("db"), &db_).ok());
  }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(db_->Put(WriteOptions(), k, v).ok());
  }
  void Delete(const std::string& k) { ASSERT_TRUE(db_->Delete(WriteOptions(), k).ok()); }
  std::string Get(const std::string& k, const Snapshot* s = nullptr) {
    ReadOptions r;
    r.snapshot = s;
    std::string v;
    Status st = db_->Get(r, k, &v);
    if (st.IsNotFound()) return "NOT_FOUND";
    if (!st.ok()) return st.ToString();
    return v;
  }
  // Every key and value through an iterator at `s`, forward.
  std::string Contents(const Snapshot* s = nullptr) {
    ReadOptions r;
    r.snapshot = s;
    std::unique_ptr<Iterator> it = db_->NewIterator(r);
    std::string out;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out += std::string(it->key()) + "=" + std::string(it->value()) + ";";
    }
    if (!it->status().ok()) out += it->status().ToString();
    return out;
  }
  uint64_t Prop(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }

  test::TempDir tmp_{"snapshot"};
  Options options_;
  std::unique_ptr<DB> db_;
  std::mutex log_mu_;
  std::string log_;
};

// LevelDB's DBTest.GetSnapshot, with a short and a long key.
TEST_P(SnapshotTest, GetSnapshot) {
  for (const std::string& key : {std::string("foo"), std::string(200, 'x')}) {
    Put(key, "v1");
    const Snapshot* s1 = db_->GetSnapshot();
    ASSERT_NE(s1, nullptr);
    Put(key, "v2");
    EXPECT_EQ("v2", Get(key));
    EXPECT_EQ("v1", Get(key, s1));
    ASSERT_TRUE(db_->Checkpoint().ok());  // pages written: the snapshot stays
    EXPECT_EQ("v2", Get(key));
    EXPECT_EQ("v1", Get(key, s1));
    db_->ReleaseSnapshot(s1);
  }
}

// LevelDB's DBTest.GetIdenticalSnapshots.
TEST_P(SnapshotTest, GetIdenticalSnapshots) {
  for (const std::string& key : {std::string("foo"), std::string(200, 'x')}) {
    Put(key, "v1");
    const Snapshot* s1 = db_->GetSnapshot();
    const Snapshot* s2 = db_->GetSnapshot();
    const Snapshot* s3 = db_->GetSnapshot();
    EXPECT_EQ(s1->sequence(), s2->sequence());
    EXPECT_EQ(s2->sequence(), s3->sequence());
    Put(key, "v2");
    EXPECT_EQ("v2", Get(key));
    EXPECT_EQ("v1", Get(key, s1));
    EXPECT_EQ("v1", Get(key, s2));
    EXPECT_EQ("v1", Get(key, s3));
    db_->ReleaseSnapshot(s1);
    ASSERT_TRUE(db_->Checkpoint().ok());
    EXPECT_EQ("v1", Get(key, s2));
    db_->ReleaseSnapshot(s2);
    EXPECT_EQ("v1", Get(key, s3));
    db_->ReleaseSnapshot(s3);
    EXPECT_EQ("v2", Get(key));
  }
}

// LevelDB's DBTest.IterateOverEmptySnapshot.
TEST_P(SnapshotTest, IterateOverEmptySnapshot) {
  const Snapshot* snapshot = db_->GetSnapshot();
  ReadOptions r;
  r.snapshot = snapshot;
  Put("foo", "v1");
  Put("foo", "v2");
  std::unique_ptr<Iterator> it = db_->NewIterator(r);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it.reset();
  ASSERT_TRUE(db_->Checkpoint().ok());
  it = db_->NewIterator(r);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  it.reset();
  db_->ReleaseSnapshot(snapshot);
}

// LevelDB's DBTest.Snapshot: three snapshots of one key, released out of
// order.
TEST_P(SnapshotTest, Snapshot) {
  Put("foo", "v1");
  const Snapshot* s1 = db_->GetSnapshot();
  Put("foo", "v2");
  const Snapshot* s2 = db_->GetSnapshot();
  Put("foo", "v3");
  const Snapshot* s3 = db_->GetSnapshot();
  Put("foo", "v4");
  EXPECT_LT(s1->sequence(), s2->sequence());
  EXPECT_EQ("v1", Get("foo", s1));
  EXPECT_EQ("v2", Get("foo", s2));
  EXPECT_EQ("v3", Get("foo", s3));
  EXPECT_EQ("v4", Get("foo"));

  db_->ReleaseSnapshot(s3);
  EXPECT_EQ("v1", Get("foo", s1));
  EXPECT_EQ("v2", Get("foo", s2));
  EXPECT_EQ("v4", Get("foo"));

  db_->ReleaseSnapshot(s1);
  EXPECT_EQ("v2", Get("foo", s2));
  EXPECT_EQ("v4", Get("foo"));

  db_->ReleaseSnapshot(s2);
  EXPECT_EQ("v4", Get("foo"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.count"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_versions"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_bytes"));
}

// An iterator stays at its creation (LevelDB's IterMulti... tests, where
// writes after NewIterator must not show): overwritten, deleted and new
// keys, forward, backward and after seeks.
TEST_P(SnapshotTest, IterMultiStaysAtSnapshot) {
  Put("a", "va");
  Put("b", "vb");
  Put("c", "vc");
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  Put("a", "va2");
  Delete("b");
  Put("bb", "new");
  Put("d", "vd");
  Put("c", "vc2");

  it->SeekToFirst();
  std::string seen;
  for (; it->Valid(); it->Next()) seen += std::string(it->key()) + "=" + std::string(it->value()) + ";";
  EXPECT_EQ("a=va;b=vb;c=vc;", seen);
  seen.clear();
  for (it->SeekToLast(); it->Valid(); it->Prev()) seen += std::string(it->key()) + ";";
  EXPECT_EQ("c;b;a;", seen);
  it->Seek("b");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("b", it->key());
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key());
  EXPECT_EQ("vc", it->value());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("b", it->key());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("a", it->key());
  EXPECT_EQ("va", it->value());
  it->SeekForPrev("bz");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("b", it->key());
  it->Seek("ca");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  it.reset();
  EXPECT_EQ("a=va2;bb=new;c=vc2;d=vd;", Contents());
}

// LevelDB's DBTest.IteratorPinsRef: an iterator keeps what it was created
// on while many writes (and checkpoints) change the database.
TEST_P(SnapshotTest, IteratorPinsRef) {
  Put("foo", "hello");
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  Put("foo", "newvalue1");
  for (int i = 0; i < 100; i++) Put("key" + std::to_string(i), std::string(1000, 'v'));
  ASSERT_TRUE(db_->Checkpoint().ok());
  Put("foo", "newvalue2");
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("foo", it->key());
  EXPECT_EQ("hello", it->value());
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

// A batch is all or nothing in every snapshot, and MultiGet reads one.
TEST_P(SnapshotTest, BatchIsWholeInEverySnapshot) {
  Put("a", "0");
  Put("b", "0");
  const Snapshot* before = db_->GetSnapshot();
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Delete("b");
  batch.Put("c", "1");
  batch.Put("a", "2");  // a key twice in one batch: the snapshot sees the first's old value
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
  const Snapshot* after = db_->GetSnapshot();
  EXPECT_EQ("a=0;b=0;", Contents(before));
  EXPECT_EQ("a=2;c=1;", Contents(after));
  ReadOptions r;
  r.snapshot = before;
  std::vector<std::string> values;
  std::vector<Status> st = db_->MultiGet(r, {"a", "b", "c"}, &values);
  ASSERT_EQ(3u, st.size());
  EXPECT_TRUE(st[0].ok());
  EXPECT_EQ("0", values[0]);
  EXPECT_TRUE(st[1].ok());
  EXPECT_EQ("0", values[1]);
  EXPECT_TRUE(st[2].IsNotFound());
  r.snapshot = after;
  st = db_->MultiGet(r, {"a", "b", "c"}, &values);
  EXPECT_EQ("2", values[0]);
  EXPECT_TRUE(st[1].IsNotFound());
  EXPECT_EQ("1", values[2]);
  db_->ReleaseSnapshot(before);
  db_->ReleaseSnapshot(after);
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_versions"));
}

// Many snapshots held at once, random puts, deletes and batches (values
// large enough to overflow into blob pages too), checkpoints and releases;
// every snapshot is checked against the copy of the model taken with it,
// by Get, MultiGet and iterators in both directions.
TEST_P(SnapshotTest, RandomizedAgainstModelCopies) {
  std::mt19937 rng(GetParam() * 7919 + 1);
  Model model;
  struct Held {
    const Snapshot* snap;
    Model copy;
  };
  std::vector<Held> held;
  auto key = [&] { return "k" + std::to_string(rng() % 300); };
  auto value = [&](int i) {
    const size_t len = rng() % 20 == 0 ? 6000 + rng() % 3000 : 1 + rng() % 120;
    std::string v = std::to_string(i) + ":";
    v.resize(len, static_cast<char>('a' + i % 26));
    return v;
  };
  auto check = [&](const Held& h) {
    ReadOptions r;
    r.snapshot = h.snap;
    // Forward and backward through the iterator.
    std::unique_ptr<Iterator> it = db_->NewIterator(r);
    auto m = h.copy.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(m, h.copy.end()) << "extra key " << it->key();
      ASSERT_EQ(m->first, it->key());
      ASSERT_EQ(m->second, it->value()) << m->first;
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_EQ(m, h.copy.end());
    auto rm = h.copy.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++rm) {
      ASSERT_NE(rm, h.copy.rend());
      ASSERT_EQ(rm->first, it->key());
    }
    ASSERT_EQ(rm, h.copy.rend());
    // A seek, then a turn around.
    const std::string target = key();
    it->Seek(target);
    auto lb = h.copy.lower_bound(target);
    if (lb == h.copy.end()) {
      ASSERT_FALSE(it->Valid());
    } else {
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(lb->first, it->key());
      it->Prev();
      if (lb == h.copy.begin()) {
        ASSERT_FALSE(it->Valid());
      } else {
        ASSERT_TRUE(it->Valid());
        ASSERT_EQ(std::prev(lb)->first, it->key());
      }
    }
    // Gets and one MultiGet.
    std::vector<std::string> keys;
    for (int i = 0; i < 20; i++) keys.push_back(key());
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<Status> st = db_->MultiGet(r, views, &values);
    for (size_t i = 0; i < keys.size(); i++) {
      auto f = h.copy.find(keys[i]);
      std::string v;
      Status g = db_->Get(r, keys[i], &v);
      if (f == h.copy.end()) {
        ASSERT_TRUE(g.IsNotFound()) << keys[i] << " " << g.ToString();
        ASSERT_TRUE(st[i].IsNotFound()) << keys[i];
      } else {
        ASSERT_TRUE(g.ok()) << keys[i] << " " << g.ToString();
        ASSERT_EQ(f->second, v);
        ASSERT_TRUE(st[i].ok());
        ASSERT_EQ(f->second, values[i]);
      }
    }
  };
  for (int i = 0; i < 3000; i++) {
    const int op = rng() % 100;
    if (op < 50) {
      const std::string k = key(), v = value(i);
      Put(k, v);
      model[k] = v;
    } else if (op < 70) {
      const std::string k = key();
      Delete(k);
      model.erase(k);
    } else if (op < 80) {
      WriteBatch b;
      for (int j = 0, n = 1 + rng() % 8; j < n; j++) {
        const std::string k = key();
        if (rng() % 3 == 0) {
          b.Delete(k);
          model.erase(k);
        } else {
          const std::string v = value(i * 10 + j);
          b.Put(k, v);
          model[k] = v;
        }
      }
      ASSERT_TRUE(db_->Write(WriteOptions(), &b).ok());
    } else if (op < 88) {
      held.push_back({db_->GetSnapshot(), model});
    } else if (op < 94 && !held.empty()) {
      const size_t at = rng() % held.size();
      check(held[at]);
      db_->ReleaseSnapshot(held[at].snap);
      held.erase(held.begin() + static_cast<long>(at));
    } else if (op < 95) {
      ASSERT_TRUE(db_->Checkpoint().ok());
    } else if (!held.empty()) {
      check(held[rng() % held.size()]);
    }
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(held.size(), Prop("ringdb.snapshots.count"));
  for (const Held& h : held) {
    check(h);
    db_->ReleaseSnapshot(h.snap);
  }
  EXPECT_EQ(0u, Prop("ringdb.snapshots.count"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_bytes"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_keys"));
  EXPECT_EQ(Contents(), [&] {
    std::string out;
    for (const auto& [k, v] : model) out += k + "=" + v + ";";
    return out;
  }());
}

// What a snapshot holds is reported, reclaimed at release, and bounded:
// past snapshot_notice_bytes one notice, past snapshot_max_bytes the oldest
// snapshot expires and its reads say why.
TEST_P(SnapshotTest, RetainedVersionsAreReportedReclaimedAndBounded) {
  options_.snapshot_notice_bytes = 64 << 10;
  options_.snapshot_max_bytes = 256 << 10;
  Open();
  for (int i = 0; i < 100; i++) Put("k" + std::to_string(i), std::string(1000, 'a'));
  const Snapshot* s = db_->GetSnapshot();
  EXPECT_EQ(1u, Prop("ringdb.snapshots.count"));
  EXPECT_EQ(s->sequence(), Prop("ringdb.snapshots.oldest_sequence"));
  for (int i = 0; i < 50; i++) Put("k" + std::to_string(i), std::string(1000, 'b'));
  const uint64_t held = Prop("ringdb.snapshots.retained_bytes");
  EXPECT_GE(held, 50u * 1000);
  EXPECT_EQ(50u, Prop("ringdb.snapshots.retained_versions"));
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("ringdb.stats", &stats));
  EXPECT_NE(stats.find("snap:  1 open"), std::string::npos) << stats;
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    EXPECT_EQ(log_.find("snapshots hold"), std::string::npos) << log_;
  }
  // Past the notice.
  for (int i = 50; i < 100; i++) Put("k" + std::to_string(i), std::string(1000, 'b'));
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    EXPECT_NE(log_.find("snapshots hold"), std::string::npos) << log_;
  }
  EXPECT_EQ(std::string(1000, 'a'), Get("k7", s));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.expired"));
  // A second, younger snapshot; then past the limit: the older expires
  // first, and the younger still reads right.
  const Snapshot* young = db_->GetSnapshot();
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 100; i++) Put("k" + std::to_string(i), std::string(1000, 'c' + round));
  }
  EXPECT_GE(Prop("ringdb.snapshots.expired"), 1u);
  std::string v;
  ReadOptions r;
  r.snapshot = s;
  Status st = db_->Get(r, "k7", &v);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.ToString().find("snapshot_max_bytes"), std::string::npos) << st.ToString();
  std::unique_ptr<Iterator> it = db_->NewIterator(r);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsInvalidArgument()) << it->status().ToString();
  it.reset();
  EXPECT_LE(Prop("ringdb.snapshots.retained_bytes"), options_.snapshot_max_bytes);
  db_->ReleaseSnapshot(s);  // expired ones are released as any other
  // The younger snapshot either still reads its own version or expired
  // too (and says so); never another value.
  const std::string young_k7 = Get("k7", young);
  EXPECT_TRUE(young_k7 == std::string(1000, 'b') ||
              young_k7.find("snapshot_max_bytes") != std::string::npos)
      << young_k7.substr(0, 200);
  db_->ReleaseSnapshot(young);
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_bytes"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.count"));
  // Writes go on and new snapshots work.
  const Snapshot* again = db_->GetSnapshot();
  Put("k7", "z");
  EXPECT_EQ(std::string(1000, 'e'), Get("k7", again));
  db_->ReleaseSnapshot(again);
}

// DB::Put and DB::Delete build their batch in one kept per thread
// (db_impl.cc). A write made by the info_log callback while a Put is in
// progress (the snapshot notice is logged from inside it) gets a batch of
// its own, and a value too big to keep leaves nothing behind that a later
// write would see.
TEST_P(SnapshotTest, AWriteFromTheLogCallbackInsideAPutLandsWhole) {
  int nested = 0;
  options_.snapshot_notice_bytes = 16 << 10;
  options_.info_log = [&](std::string_view msg) {
    if (msg.find("snapshots hold") == std::string_view::npos || nested++ > 0) return;
    EXPECT_TRUE(db_->Put(WriteOptions(), "nested", std::string(3000, 'n')).ok());
    EXPECT_TRUE(db_->Delete(WriteOptions(), "k1").ok());
  };
  Open();
  for (int i = 0; i < 40; i++) Put("k" + std::to_string(i), std::string(1000, 'a'));
  const Snapshot* s = db_->GetSnapshot();
  for (int i = 0; i < 40; i++) Put("k" + std::to_string(i), std::string(1000, 'b'));
  EXPECT_EQ(1, nested);
  EXPECT_EQ(std::string(3000, 'n'), Get("nested"));
  EXPECT_EQ("NOT_FOUND", Get("k1"));
  for (int i = 2; i < 40; i++) EXPECT_EQ(std::string(1000, 'b'), Get("k" + std::to_string(i)));
  EXPECT_EQ(std::string(1000, 'a'), Get("k1", s));
  db_->ReleaseSnapshot(s);
  // A value past what the kept batch holds on to, then small writes.
  Put("big", std::string(1 << 20, 'B'));
  Put("small", "s");
  Delete("big");
  EXPECT_EQ("s", Get("small"));
  EXPECT_EQ("NOT_FOUND", Get("big"));
  db_.reset();
  options_.info_log = [](std::string_view) {};
  Open();
  EXPECT_EQ(std::string(3000, 'n'), Get("nested"));
  EXPECT_EQ("NOT_FOUND", Get("k1"));
  EXPECT_EQ("s", Get("small"));
}

// Writes with no snapshot open save nothing; a snapshot of another DB is
// refused; after Close, GetSnapshot gives null and ReleaseSnapshot works.
TEST_P(SnapshotTest, LifecycleAndMisuse) {
  for (int i = 0; i < 50; i++) Put("k" + std::to_string(i), "v");
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_versions"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.reclaimed_versions"));

  test::TempDir other_dir("snapshot_other");
  std::unique_ptr<DB> other;
  ASSERT_TRUE(DB::Open(options_, other_dir.File("db"), &other).ok());
  const Snapshot* foreign = other->GetSnapshot();
  ReadOptions r;
  r.snapshot = foreign;
  std::string v;
  Status st = db_->Get(r, "k1", &v);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  std::unique_ptr<Iterator> it = db_->NewIterator(r);
  EXPECT_TRUE(it->status().IsInvalidArgument());
  it.reset();
  other->ReleaseSnapshot(foreign);

  const Snapshot* held = db_->GetSnapshot();
  Put("k1", "new");
  ASSERT_TRUE(db_->Close().ok());
  EXPECT_EQ(nullptr, db_->GetSnapshot());
  db_->ReleaseSnapshot(held);
  db_->ReleaseSnapshot(nullptr);
  // Snapshots are in memory only: the reopened database has the newest.
  Open();
  EXPECT_EQ("new", Get("k1"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.count"));
}

// Writers apply batches that set every key of a group to one generation;
// readers at snapshots (explicit ones held across many batches, and
// iterators' own) must see exactly one generation per snapshot, the same
// through Get, MultiGet and iterators, and the same when read again later.
TEST_P(SnapshotTest, ConcurrentWritersAndSnapshotReaders) {
  constexpr int kKeys = 64;
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "key%03d", i);
    return std::string(buf);
  };
  auto write_generation = [&](int gen) {
    WriteBatch b;
    for (int i = 0; i < kKeys; i++) {
      if (gen % 5 == 4 && i % 3 == 0) {
        b.Delete(key(i));  // some generations delete a third of the keys
      } else {
        b.Put(key(i), "g" + std::to_string(gen) + std::string(i % 7 * 40, '.'));
      }
    }
    return db_->Write(WriteOptions(), &b);
  };
  ASSERT_TRUE(write_generation(0).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> generation{0};
  std::atomic<int> bad{0};
  std::atomic<int> checks{0};
  std::mutex first_mu;
  std::string first_bad;
  auto fail = [&](const std::string& why) {
    if (bad++ == 0) {
      std::lock_guard<std::mutex> lock(first_mu);
      first_bad = why;
    }
  };
  // What a reader at one snapshot saw: key -> value prefix "gN" or absent.
  auto gen_of = [](std::string_view v) { return std::string(v.substr(0, v.find('.'))); };
  auto scan = [&](const ReadOptions& r, std::map<std::string, std::string>* seen) {
    std::unique_ptr<Iterator> it = db_->NewIterator(r);
    for (it->SeekToFirst(); it->Valid(); it->Next()) (*seen)[std::string(it->key())] = gen_of(it->value());
    if (!it->status().ok()) fail("iterator: " + it->status().ToString());
  };
  // One generation, with the delete pattern it implies.
  auto consistent = [&](const std::map<std::string, std::string>& seen) {
    if (seen.empty()) return false;
    const std::string g = seen.begin()->second;
    const int gen = std::stoi(g.substr(1));
    for (int i = 0; i < kKeys; i++) {
      auto f = seen.find(key(i));
      const bool deleted = gen % 5 == 4 && i % 3 == 0;
      if (deleted != (f == seen.end())) return false;
      if (f != seen.end() && f->second != g) return false;
    }
    return true;
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 1; w++) {
    threads.emplace_back([&] {
      while (!stop) {
        Status s = write_generation(++generation);
        if (!s.ok()) fail("write: " + s.ToString());
      }
    });
  }
  for (int t = 0; t < 2; t++) {
    threads.emplace_back([&, t] {
      for (int round = 0; !stop; round++) {
        if (t == 0) {
          // A Get of the newest value, then an iterator's own snapshot,
          // which must not be older than what the Get saw (reads never go
          // back in time), and must hold one generation.
          std::string v;
          Status g = db_->Get(ReadOptions(), key(1), &v);
          if (!g.ok()) fail("get: " + g.ToString());
          const int newest = g.ok() ? std::stoi(gen_of(v).substr(1)) : 0;
          std::map<std::string, std::string> seen;
          scan(ReadOptions(), &seen);
          if (!consistent(seen)) {
            std::string out;
            for (const auto& [k, v] : seen) out += k.substr(3) + "=" + v + " ";
            fail("implicit iterator snapshot saw mixed generations: " + out);
          }
          else if (std::stoi(seen.begin()->second.substr(1)) < newest) {
            fail("an iterator created after a Get saw generation " + seen.begin()->second +
                 ", older than the Get's g" + std::to_string(newest));
          }
          checks++;
          if (round % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
        // An explicit snapshot, read three ways, twice, with writes between.
        const Snapshot* snap = db_->GetSnapshot();
        ReadOptions r;
        r.snapshot = snap;
        std::map<std::string, std::string> first;
        scan(r, &first);
        if (!consistent(first)) fail("snapshot iterator saw mixed generations");
        std::this_thread::yield();
        std::map<std::string, std::string> again, by_get, by_multi;
        scan(r, &again);
        std::vector<std::string> keys;
        for (int i = 0; i < kKeys; i++) keys.push_back(key(i));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<std::string> values;
        std::vector<Status> st = db_->MultiGet(r, views, &values);
        for (int i = 0; i < kKeys; i++) {
          std::string v;
          Status g = db_->Get(r, keys[i], &v);
          if (g.ok()) by_get[keys[i]] = gen_of(v);
          else if (!g.IsNotFound()) fail("get: " + g.ToString());
          if (st[i].ok()) by_multi[keys[i]] = gen_of(values[i]);
          else if (!st[i].IsNotFound()) fail("multiget: " + st[i].ToString());
        }
        if (again != first || by_get != first || by_multi != first) {
          auto show = [](const std::map<std::string, std::string>& m) {
            std::string out;
            for (const auto& [k, v] : m) out += k.substr(3) + "=" + v + " ";
            return out;
          };
          fail("a snapshot read differently later (round " + std::to_string(round) +
               ", sequence " + std::to_string(snap->sequence()) + "): first " + show(first) +
               "\nagain " + show(again) + "\nget " + show(by_get) + "\nmulti " +
               show(by_multi));
        }
        db_->ReleaseSnapshot(snap);
        checks++;
        // Leave moments with no snapshot open, so writers stop saving
        // versions and start again.
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
    });
  }
  // Until both readers have checked many times while the writer ran.
  for (int i = 0; i < 6000 && (checks.load() < 2000 || generation.load() < 2000); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(0, bad.load()) << first_bad;
  EXPECT_GE(checks.load(), 2000);
  EXPECT_GE(generation.load(), 2000);
  EXPECT_EQ(0u, Prop("ringdb.snapshots.count"));
  EXPECT_EQ(0u, Prop("ringdb.snapshots.retained_versions"));
}

// A fixed set of keys whose values batches keep rewriting: every scan must
// return every key, once, in order, whatever the writer does meanwhile.
// (An iterator crossing to the next leaf through the remembered parent
// retried after a batch moved batch_seq_ from the sibling it had already
// stepped to, so it skipped a leaf.)
TEST_P(SnapshotTest, ScansSeeEveryKeyWhileBatchesRewriteValues) {
  constexpr int kKeys = 3000;
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "key%05d", i);
    return std::string(buf);
  };
  {
    WriteBatch b;
    for (int i = 0; i < kKeys; i++) b.Put(key(i), std::string(100, 'a'));
    ASSERT_TRUE(db_->Write(WriteOptions(), &b).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread writer([&] {
    std::mt19937 rng(7);
    while (!stop) {
      WriteBatch b;
      for (int j = 0; j < 40; j++) {
        b.Put(key(static_cast<int>(rng() % kKeys)), std::string(60 + rng() % 80, 'b' + j % 20));
      }
      if (!db_->Write(WriteOptions(), &b).ok()) break;
      batches++;
    }
  });
  std::string problem;
  int scans = 0;
  const int max_scans = GetParam() >= 1024 ? 400 : 40;  // a 16-page pool reads every leaf
  for (; scans < max_scans && problem.empty(); scans++) {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    int expect = 0;
    const bool forward = scans % 2 == 0;
    if (forward) {
      for (it->SeekToFirst(); it->Valid() && problem.empty(); it->Next(), expect++) {
        if (it->key() != key(expect)) problem = "forward scan: " + std::string(it->key()) + " where " + key(expect) + " was due";
      }
    } else {
      for (it->SeekToLast(); it->Valid() && problem.empty(); it->Prev(), expect++) {
        if (it->key() != key(kKeys - 1 - expect)) problem = "backward scan: " + std::string(it->key()) + " where " + key(kKeys - 1 - expect) + " was due";
      }
    }
    if (problem.empty() && !it->status().ok()) problem = it->status().ToString();
    if (problem.empty() && expect != kKeys) problem = "a scan returned " + std::to_string(expect) + " keys";
  }
  stop = true;
  writer.join();
  EXPECT_EQ("", problem) << "after " << scans << " scans and " << batches.load() << " batches";
}

// 16 pages (the minimum) and a pool that holds everything.
INSTANTIATE_TEST_SUITE_P(Pools, SnapshotTest, ::testing::Values(16, 1024),
                         [](const auto& info) { return std::to_string(info.param) + "pages"; });

}  // namespace db_snapshot_test
}  // namespace ringdb
