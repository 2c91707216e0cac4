// WriteBatch's encoding is a frozen on-disk format (it is the payload of
// every log record): these tests pin its exact bytes, so a change to it
// fails here before it can make old logs unreadable, and check that Decode
// refuses malformed input with Corruption.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/write_batch_internal.h"
#include "ringdb/write_batch.h"

namespace ringdb {
namespace write_batch_test {

// Records the operations a batch replays.
class Recorder : public WriteBatch::Handler {
 public:
  Status Put(std::string_view key, std::string_view value) override {
    ops.emplace_back("put " + std::string(key), std::string(value));
    return Status::OK();
  }
  Status Delete(std::string_view key) override {
    ops.emplace_back("del " + std::string(key), "");
    return Status::OK();
  }
  std::vector<std::pair<std::string, std::string>> ops;
};

// u8 tag (1 put, 2 delete), LEB128 varint key length, key, and for a put a
// varint value length and the value.
TEST(WriteBatchFormatTest, EncodingIsFrozen) {
  WriteBatch batch;
  batch.Put("k", "v");
  batch.Delete("ab");
  batch.Put("", "");
  batch.Put(std::string(200, 'x'), std::string(300, 'y'));
  std::string expected("\x01\x01k\x01v", 5);
  expected += std::string("\x02\x02" "ab", 4);
  expected += std::string("\x01\x00\x00", 3);
  expected += std::string("\x01\xc8\x01", 3) + std::string(200, 'x') +
              std::string("\xac\x02", 2) + std::string(300, 'y');
  EXPECT_EQ(WriteBatchInternal::Contents(batch), expected);
  EXPECT_EQ(batch.Count(), 4u);
  EXPECT_EQ(batch.ApproximateSize(), expected.size());

  // And the frozen bytes decode to the same operations.
  WriteBatch decoded;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&decoded, expected).ok());
  EXPECT_EQ(decoded.Count(), 4u);
  Recorder r;
  ASSERT_TRUE(decoded.Iterate(&r).ok());
  ASSERT_EQ(r.ops.size(), 4u);
  EXPECT_EQ(r.ops[0], std::make_pair(std::string("put k"), std::string("v")));
  EXPECT_EQ(r.ops[1], std::make_pair(std::string("del ab"), std::string()));
  EXPECT_EQ(r.ops[2], std::make_pair(std::string("put "), std::string()));
  EXPECT_EQ(r.ops[3].first, "put " + std::string(200, 'x'));
  EXPECT_EQ(r.ops[3].second, std::string(300, 'y'));
}

TEST(WriteBatchFormatTest, ClearEmptiesAndEmptyDecodes) {
  WriteBatch batch;
  batch.Put("a", "b");
  batch.Clear();
  EXPECT_EQ(WriteBatchInternal::Contents(batch), "");
  EXPECT_EQ(batch.Count(), 0u);
  WriteBatch decoded;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&decoded, "").ok());
  EXPECT_EQ(decoded.Count(), 0u);
}

// The write path's test for a delete it may buffer (engine/delete_buffer.h).
TEST(WriteBatchFormatTest, SingleDeleteIsExactlyOneDelete) {
  std::string_view key;
  WriteBatch one;
  one.Delete("gone");
  EXPECT_TRUE(WriteBatchInternal::SingleDelete(one, &key));
  EXPECT_EQ(key, "gone");
  WriteBatch put;
  put.Put("k", "v");
  EXPECT_FALSE(WriteBatchInternal::SingleDelete(put, &key));
  WriteBatch two;
  two.Delete("a");
  two.Delete("b");
  EXPECT_FALSE(WriteBatchInternal::SingleDelete(two, &key));
  WriteBatch empty;
  EXPECT_FALSE(WriteBatchInternal::SingleDelete(empty, &key));
}

TEST(WriteBatchFormatTest, MalformedInputIsCorruption) {
  const std::vector<std::string> bad = {
      std::string("\x03\x01k", 3),                 // Unknown tag.
      std::string("\x00\x01k", 3),                 // Tag 0.
      std::string("\x01\x05k\x01v", 5),            // Key longer than the input.
      std::string("\x01\x01k\x05v", 5),            // Value longer than the input.
      std::string("\x01\x01k", 3),                 // Put without a value length.
      std::string("\x02", 1),                      // Tag without a key length.
      std::string("\x02\x80", 2),                  // Varint cut short.
      std::string("\x02") + std::string(10, '\xff') + "\x01",  // Varint too long.
      std::string("\x01\x01k\x01v\x02\x09" "ab", 8),  // Good record, then a bad one.
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    WriteBatch decoded;
    Status s = WriteBatchInternal::SetContents(&decoded, bad[i]);
    EXPECT_TRUE(s.IsCorruption()) << "case " << i << ": " << s.ToString();
  }
}

}  // namespace write_batch_test
}  // namespace ringdb
