// Superblock encoding and the two-copy read/write. See superblock.h.
#include "engine/superblock.h"

#include <xxhash.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "bufferpool/page.h"
#include "io/aligned_buffer.h"

namespace ringdb {

namespace {

void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
void Put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t Checksum(const char* buf) { return XXH3_64bits(buf + 16, kSuperblockSize - 16); }

enum class Verdict { kValid, kNotRingdb, kTooNew, kCorrupt };

Verdict Decode(const char* buf, Superblock* sb) {
  if (Get64(buf) != kSuperblockMagic) return Verdict::kNotRingdb;
  if (Get64(buf + 8) != Checksum(buf)) return Verdict::kCorrupt;
  sb->version = Get32(buf + 16);
  if (sb->version > kFormatVersion) return Verdict::kTooNew;
  sb->page_size = Get32(buf + 20);
  if (!ValidPageSize(sb->page_size)) return Verdict::kCorrupt;
  sb->seq = Get64(buf + 24);
  sb->ckpt_lsn = Lsn(Get64(buf + 32));
  sb->log_segment = Get64(buf + 40);
  sb->btree_meta = Get64(buf + 48);
  sb->logical_pages = Get64(buf + 56);
  sb->slot_count = Get64(buf + 64);
  sb->map_start = Get64(buf + 72);
  sb->map_pages = Get64(buf + 80);
  sb->key_count = Get64(buf + 88);
  if (sb->slot_count < 2 || sb->map_start + sb->map_pages > sb->slot_count) {
    return Verdict::kCorrupt;
  }
  return Verdict::kValid;
}

}  // namespace

void EncodeSuperblock(const Superblock& sb, char* buf) {
  std::memset(buf, 0, kSuperblockSize);
  Put64(buf, kSuperblockMagic);
  Put32(buf + 16, sb.version);
  Put32(buf + 20, sb.page_size);
  Put64(buf + 24, sb.seq);
  Put64(buf + 32, sb.ckpt_lsn.value);
  Put64(buf + 40, sb.log_segment);
  Put64(buf + 48, sb.btree_meta);
  Put64(buf + 56, sb.logical_pages);
  Put64(buf + 64, sb.slot_count);
  Put64(buf + 72, sb.map_start);
  Put64(buf + 80, sb.map_pages);
  Put64(buf + 88, sb.key_count);
  Put64(buf + 8, Checksum(buf));
}

Result<Superblock> ReadSuperblock(io::IoBackend* io, io::FileId file) {
  const std::string path = io->PathOf(file);
  Result<uint64_t> size = io->FileSize(file);
  if (!size.ok()) return size.status();
  if (size.value() < 2 * kMinPageSize) {
    return Status::InvalidArgument(path + " is not a ringdb database (" +
                                   std::to_string(size.value()) + " bytes, too short)");
  }
  io::AlignedBuffer buf = io::NewAlignedBuffer(kSuperblockSize);
  if (!buf) return Status::IOError("out of memory reading the superblock");

  Superblock a, b;
  RINGDB_RETURN_IF_ERROR(io->Read(file, 0, buf.get(), kSuperblockSize));
  Verdict va = Decode(buf.get(), &a);
  // The second copy sits one page in; when the first is damaged, try every
  // page size.
  Verdict vb = Verdict::kNotRingdb;
  for (uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) {
    if (va == Verdict::kValid && ps != a.page_size) continue;
    if (ps + kSuperblockSize > size.value()) break;
    RINGDB_RETURN_IF_ERROR(io->Read(file, ps, buf.get(), kSuperblockSize));
    Superblock cand;
    Verdict v = Decode(buf.get(), &cand);
    if (v == Verdict::kValid && cand.page_size != ps) v = Verdict::kCorrupt;
    if (v == Verdict::kValid) {
      b = cand;
      vb = v;
      break;
    }
    if (v != Verdict::kNotRingdb && vb == Verdict::kNotRingdb) {
      vb = v;
      if (v == Verdict::kTooNew) b = cand;
    }
  }
  for (const auto& [v, sb] : {std::pair{va, a}, std::pair{vb, b}}) {
    if (v == Verdict::kTooNew) {
      return Status::NotSupported(path + " has format version " + std::to_string(sb.version) +
                                  ", newer than this ringdb's " +
                                  std::to_string(kFormatVersion));
    }
  }
  if (va == Verdict::kValid && vb == Verdict::kValid) return a.seq >= b.seq ? a : b;
  if (va == Verdict::kValid) return a;
  if (vb == Verdict::kValid) return b;
  if (va == Verdict::kNotRingdb && vb == Verdict::kNotRingdb) {
    return Status::InvalidArgument(path + " is not a ringdb database (bad magic number)");
  }
  return Status::Corruption(path + ": both superblock copies are damaged");
}

Status WriteSuperblock(io::IoBackend* io, io::FileId file, const Superblock& sb) {
  io::AlignedBuffer buf = io::NewAlignedBuffer(kSuperblockSize);
  if (!buf) return Status::IOError("out of memory writing the superblock");
  EncodeSuperblock(sb, buf.get());
  uint64_t offset = (sb.seq % 2) * sb.page_size;
  RINGDB_RETURN_IF_ERROR(io->Write(file, offset, buf.get(), kSuperblockSize));
  return io->Sync(file);
}

}  // namespace ringdb
