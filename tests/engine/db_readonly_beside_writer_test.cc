// Read-only handles beside a writer (Options::read_only while another
// handle holds the database for writing): they open at once, see the
// writer's last checkpoint and nothing later, and keep seeing exactly it
// while the writer rewrites, deletes, checkpoints, compacts and reopens
// (the writer holds the checkpoint's slots: PageStore's reuse gate). The
// handles are in one process here; flock treats them as it treats
// processes (tests/tools/shell_polish_test.cc runs two shells).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_readonly_beside_writer_test {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%05d", i);
  return buf;
}

std::string Value(const std::string& tag, int i) {
  return tag + "-" + std::to_string(i) + std::string(120, tag[0]);
}

class ReadOnlyBesideWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = tmp_.File("db");
    writer_options_.buffer_pool_bytes = 256 << 10;  // evicts: pages reach new slots early
    writer_options_.info_log = [](std::string_view) {};
    reader_options_ = writer_options_;
    reader_options_.read_only = true;
    reader_options_.buffer_pool_bytes = 16 * 4096;  // re-reads pages from the file all along
    reader_options_.info_log = [this](std::string_view m) { reader_log_ += std::string(m) + "\n"; };
  }

  // Writes kKeys keys tagged "a" and checkpoints: the reader's view.
  void WriteBase(DB* db) {
    for (int i = 0; i < kKeys; i++) {
      ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value("a", i)).ok());
      base_[Key(i)] = Value("a", i);
    }
    ASSERT_TRUE(db->Checkpoint().ok());
  }

  // Overwrites every key, deletes every third, checkpoints: the slots of
  // the older checkpoints would all be free again without the gate.
  void Churn(DB* db, const std::string& tag) {
    for (int i = 0; i < kKeys; i++) {
      if (i % 3 == 0) {
        ASSERT_TRUE(db->Delete(WriteOptions(), Key(i)).ok());
      } else {
        ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(tag, i)).ok());
      }
    }
    ASSERT_TRUE(db->Checkpoint().ok());
  }

  // The reader sees exactly base_ and its pages verify.
  void ExpectBase(DB* reader) {
    std::map<std::string, std::string> seen;
    std::unique_ptr<Iterator> it = reader->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) seen[std::string(it->key())] = it->value();
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    it.reset();
    EXPECT_TRUE(seen == base_) << seen.size() << " keys seen, " << base_.size() << " expected";
    std::string v;
    for (int i = 0; i < kKeys; i += 97) {
      ASSERT_TRUE(reader->Get(ReadOptions(), Key(i), &v).ok()) << Key(i);
      EXPECT_EQ(v, Value("a", i));
    }
    std::string report;
    EXPECT_TRUE(reader->Verify(&report).ok()) << report;
  }

  uint64_t Number(DB* db, const char* name) {
    std::string v;
    EXPECT_TRUE(db->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }

  static constexpr int kKeys = 4000;
  test::TempDir tmp_{"robw"};
  std::string path_;
  Options writer_options_, reader_options_;
  std::string reader_log_;
  std::map<std::string, std::string> base_;
};

TEST_F(ReadOnlyBesideWriterTest, SeesTheLastCheckpointWhileTheWriterRewritesEverything) {
  std::unique_ptr<DB> writer;
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  WriteBase(writer.get());
  ASSERT_TRUE(writer->Put(WriteOptions(), "late", "logged, not checkpointed").ok());

  std::unique_ptr<DB> reader;
  Status s = DB::Open(reader_options_, path_, &reader);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string note;
  ASSERT_TRUE(reader->GetProperty("ringdb.read_only_snapshot", &note));
  EXPECT_NE(note.find("is open for writing by this process"), std::string::npos) << note;
  EXPECT_NE(note.find("sees its last checkpoint"), std::string::npos) << note;
  EXPECT_NE(reader_log_.find(note), std::string::npos) << reader_log_;
  std::string v;
  EXPECT_TRUE(reader->Get(ReadOptions(), "late", &v).IsNotFound());
  EXPECT_TRUE(reader->Put(WriteOptions(), "x", "y").IsInvalidArgument());
  EXPECT_TRUE(reader->Checkpoint().IsInvalidArgument());
  ExpectBase(reader.get());

  for (const char* tag : {"b", "c", "d"}) Churn(writer.get(), tag);
  ASSERT_TRUE(writer->Compact().ok());
  EXPECT_GT(Number(writer.get(), "ringdb.store.held_slots"), 0u);
  ExpectBase(reader.get());

  // Once the reader is gone, the next checkpoint gives the slots back.
  ASSERT_TRUE(reader->Close().ok());
  reader.reset();
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(Number(writer.get(), "ringdb.store.held_slots"), 0u);
  ASSERT_TRUE(writer->Get(ReadOptions(), Key(1), &v).ok());
  EXPECT_EQ(v, Value("d", 1));
  EXPECT_TRUE(writer->Get(ReadOptions(), Key(3), &v).IsNotFound());
  ASSERT_TRUE(writer->Close().ok());
}

TEST_F(ReadOnlyBesideWriterTest, AWriterThatReopensKeepsTheReadersPages) {
  std::unique_ptr<DB> writer;
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  WriteBase(writer.get());
  std::unique_ptr<DB> reader;
  ASSERT_TRUE(DB::Open(reader_options_, path_, &reader).ok());
  Churn(writer.get(), "b");
  // The writer goes away (the reader's pages are held in its memory only)
  // and another opens: it does not know which checkpoint the reader reads.
  ASSERT_TRUE(writer->Close().ok());
  writer.reset();
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  Churn(writer.get(), "c");
  Churn(writer.get(), "d");
  ASSERT_TRUE(writer->Compact().ok());
  ExpectBase(reader.get());
  ASSERT_TRUE(reader->Close().ok());
  reader.reset();
  ASSERT_TRUE(writer->Close().ok());
}

TEST_F(ReadOnlyBesideWriterTest, WithoutAWriterReadOnlySeesEverythingAndSaysNothing) {
  std::unique_ptr<DB> writer;
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  ASSERT_TRUE(writer->Put(WriteOptions(), "k", "v").ok());
  ASSERT_TRUE(writer->Close().ok());
  writer.reset();
  std::unique_ptr<DB> reader;
  ASSERT_TRUE(DB::Open(reader_options_, path_, &reader).ok());
  std::string v;
  ASSERT_TRUE(reader->GetProperty("ringdb.read_only_snapshot", &v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(reader->Get(ReadOptions(), "k", &v).ok());
  EXPECT_EQ(v, "v");
  // A writer cannot open beside a reader that holds the database itself.
  Status s = DB::Open(writer_options_, path_, &writer);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by this process"), std::string::npos) << s.ToString();
  ASSERT_TRUE(reader->Close().ok());
}

TEST_F(ReadOnlyBesideWriterTest, ASecondWriterInTheSameProcessIsToldSo) {
  std::unique_ptr<DB> writer, second;
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  Status s = DB::Open(writer_options_, path_, &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by this process: the database is open through another "
                             "DB handle here"),
            std::string::npos)
      << s.ToString();
  ASSERT_TRUE(writer->Close().ok());
}

TEST_F(ReadOnlyBesideWriterTest, DestroyWaitsForReadersBesideAWriter) {
  std::unique_ptr<DB> writer, reader;
  ASSERT_TRUE(DB::Open(writer_options_, path_, &writer).ok());
  ASSERT_TRUE(DB::Open(reader_options_, path_, &reader).ok());
  ASSERT_TRUE(writer->Close().ok());
  writer.reset();
  Status s = DestroyDB(path_);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(std::filesystem::exists(path_ + "/ringdb.data"));
  ASSERT_TRUE(reader->Close().ok());
  reader.reset();
  EXPECT_TRUE(DestroyDB(path_).ok());
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace db_readonly_beside_writer_test
}  // namespace ringdb
