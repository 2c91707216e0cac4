// point_reads: in-memory point-read cost. N keys (16 bytes, 100-byte
// values) in a pool large enough to hold them all, then R random Gets
// through the public API, one thread; prints ns per Get and the pool's hit
// ratio (1.00 when the run really was in memory). Moved here from the
// B+tree tests, where it asserted nothing.
//   point_reads [N=20000] [R=200000] [DIR=/tmp/ringdb_point_reads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "ringdb/db.h"

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const uint64_t reads = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;
  const std::string dir = argc > 3 ? argv[3] : "/tmp/ringdb_point_reads";
  if (n == 0 || reads == 0) {
    std::fprintf(stderr, "usage: point_reads [N>0] [R>0] [DIR]\n");
    return 2;
  }
  std::filesystem::remove_all(dir);
  ringdb::Options options;
  options.buffer_pool_bytes = 16 << 20;
  std::unique_ptr<ringdb::DB> db;
  ringdb::Status s = ringdb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.ToString().c_str());
    return 1;
  }
  auto key = [](uint64_t i) {
    char buf[24];  // room for any 64-bit value; keys below 10^16 use 16
    std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(i));
    return std::string(buf, 16);
  };
  std::mt19937_64 rng(2);
  std::string value(100, 'v');
  for (uint64_t i = 0; i < n; ++i) {
    for (char& c : value) c = static_cast<char>('a' + rng() % 26);
    s = db->Put(ringdb::WriteOptions(), key(i), value);
    if (!s.ok()) {
      std::fprintf(stderr, "put: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::string v;
  for (uint64_t i = 0; i < n; ++i) (void)db->Get(ringdb::ReadOptions(), key(i), &v);  // Warm.
  std::string before;
  db->GetProperty("ringdb.pool.misses", &before);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < reads; ++i) {
    s = db->Get(ringdb::ReadOptions(), key(rng() % n), &v);
    if (!s.ok()) {
      std::fprintf(stderr, "get: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(reads);
  std::string after;
  db->GetProperty("ringdb.pool.misses", &after);
  std::printf("in-memory Get: %.0f ns/op over %llu reads of %llu keys, %llu misses while timed\n",
              ns, static_cast<unsigned long long>(reads), static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(std::stoull(after) - std::stoull(before)));
  s = db->Close();
  std::filesystem::remove_all(dir);
  return s.ok() ? 0 : 1;
}
