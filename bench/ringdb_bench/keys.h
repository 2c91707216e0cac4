// Key and value material shared by every engine of a run, and the random
// choices of the workloads: a fast PRNG, a bijective shuffle of [0, n),
// and YCSB's scrambled Zipfian and "latest" generators.
//
// Thread-safety: KeySpace is immutable after construction and shared by all
// threads; every generator belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringdb_bench {

// SplitMix64-seeded xoshiro256**: fast, good enough for key choice, and the
// same sequence for every engine given the same seed.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n).
  uint64_t Uniform(uint64_t n);
  // Uniform in [0, 1).
  double NextDouble();

 private:
  uint64_t s_[4];
};

uint64_t Fnv1a64(uint64_t v);
uint64_t Mix64(uint64_t v);

// Key i is i in zero-padded decimal, key_size characters wide, so the byte
// order of keys is their numeric order. Value i is a deterministic slice of
// a random buffer, so a read can be checked.
class KeySpace {
 public:
  KeySpace(size_t key_size, size_t value_size, uint64_t seed);

  size_t key_size() const { return key_size_; }
  size_t value_size() const { return value_size_; }
  // Largest key index that fits in key_size digits (capped to 2^63).
  uint64_t MaxKeys() const { return max_keys_; }

  // Writes key `i` into *out (resized to key_size).
  void Key(uint64_t i, std::string* out) const;
  std::string_view Value(uint64_t i) const;

 private:
  size_t key_size_;
  size_t value_size_;
  uint64_t max_keys_;
  std::string buffer_;
};

// A pseudo-random bijection of [0, n), so a "random order" fill writes every
// key exactly once without a table of n entries: a 4-round Feistel network
// over the smallest even number of bits covering n, cycle-walking outputs
// that fall outside [0, n).
class Shuffle {
 public:
  Shuffle(uint64_t n, uint64_t seed);
  uint64_t At(uint64_t i) const;

 private:
  uint64_t Permute(uint64_t x) const;

  uint64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t keys_[4];
};

// Zipfian over [0, items) with constant theta (YCSB's ZipfianGenerator,
// after Gray et al., "Quickly Generating Billion-Record Synthetic
// Databases", SIGMOD 1994): item 0 is the most popular. Grows with the item
// count (zeta is extended incrementally).
class Zipfian {
 public:
  Zipfian(uint64_t items, double theta);
  // A draw over [0, items); items may grow between calls, never shrink.
  uint64_t Next(Rng& rng, uint64_t items);
  uint64_t Next(Rng& rng) { return Next(rng, items_); }

 private:
  static double Zeta(uint64_t from, uint64_t to, double theta, double initial);
  void Recompute(uint64_t items);

  uint64_t items_;
  double theta_, alpha_, zeta2_, zetan_, eta_;
};

// YCSB's ScrambledZipfianGenerator: Zipfian popularity, but the popular
// items are spread over the key space by hashing (so they are not all
// neighbours, which would flatter any cache).
class ScrambledZipfian {
 public:
  ScrambledZipfian(uint64_t items, double theta) : items_(items), zipf_(items, theta) {}
  uint64_t Next(Rng& rng) { return Fnv1a64(zipf_.Next(rng)) % items_; }

 private:
  uint64_t items_;
  Zipfian zipf_;
};

// YCSB's SkewedLatestGenerator: recent inserts are the most popular.
class SkewedLatest {
 public:
  SkewedLatest(uint64_t items, double theta) : zipf_(items, theta) {}
  // `latest`: the number of items inserted so far (keys [0, latest)).
  uint64_t Next(Rng& rng, uint64_t latest) {
    uint64_t back = zipf_.Next(rng, latest);
    return latest - 1 - back;
  }

 private:
  Zipfian zipf_;
};

}  // namespace ringdb_bench
