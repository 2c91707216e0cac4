#include "keys.h"

#include <cmath>
#include <algorithm>

namespace ringdb_bench {
namespace {

uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = SplitMix(&seed);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Uniform(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

double Rng::NextDouble() { return (Next() >> 11) * 0x1.0p-53; }

uint64_t Fnv1a64(uint64_t v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < 8; i++) {
    h ^= v & 0xff;
    h *= 0x100000001b3ull;
    v >>= 8;
  }
  return h;
}

uint64_t Mix64(uint64_t v) { return SplitMix(&v); }

KeySpace::KeySpace(size_t key_size, size_t value_size, uint64_t seed)
    : key_size_(key_size), value_size_(value_size) {
  max_keys_ = 1;
  for (size_t i = 0; i < key_size && max_keys_ < (1ull << 62); i++) max_keys_ *= 10;
  size_t len = std::max<size_t>(1 << 20, 2 * value_size + 64);
  buffer_.resize(len);
  Rng rng(seed ^ 0x76616c7565ull);
  // Printable bytes, so a dumped value is readable; compression is off in
  // every engine, so their entropy does not matter.
  for (char& c : buffer_) c = static_cast<char>('a' + rng.Uniform(26));
}

void KeySpace::Key(uint64_t i, std::string* out) const {
  out->assign(key_size_, '0');
  char* p = out->data() + key_size_;
  while (i > 0 && p > out->data()) {
    *--p = static_cast<char>('0' + i % 10);
    i /= 10;
  }
}

std::string_view KeySpace::Value(uint64_t i) const {
  size_t off = Mix64(i) % (buffer_.size() - value_size_);
  return std::string_view(buffer_.data() + off, value_size_);
}

Shuffle::Shuffle(uint64_t n, uint64_t seed) : n_(n == 0 ? 1 : n) {
  int bits = 2;
  while (bits < 64 && (1ull << bits) < n_) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (1ull << half_bits_) - 1;
  for (int r = 0; r < 4; r++) keys_[r] = Mix64(seed + 0x51 * (r + 1));
}

uint64_t Shuffle::Permute(uint64_t x) const {
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (uint64_t k : keys_) {
    const uint64_t f = Mix64(right ^ k) & half_mask_;
    const uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t Shuffle::At(uint64_t i) const {
  // A permutation of [0, 2^bits) restricted to [0, n) by walking the cycle
  // from i until it re-enters [0, n): still a bijection of [0, n).
  uint64_t x = Permute(i);
  while (x >= n_) x = Permute(x);
  return x;
}

Zipfian::Zipfian(uint64_t items, double theta) : items_(items == 0 ? 1 : items), theta_(theta) {
  alpha_ = 1.0 / (1.0 - theta_);
  zeta2_ = Zeta(0, 2, theta_, 0);
  zetan_ = Zeta(0, items_, theta_, 0);
  eta_ = (1 - std::pow(2.0 / items_, 1 - theta_)) / (1 - zeta2_ / zetan_);
}

double Zipfian::Zeta(uint64_t from, uint64_t to, double theta, double initial) {
  double sum = initial;
  for (uint64_t i = from; i < to; i++) sum += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  return sum;
}

void Zipfian::Recompute(uint64_t items) {
  zetan_ = Zeta(items_, items, theta_, zetan_);
  items_ = items;
  eta_ = (1 - std::pow(2.0 / items_, 1 - theta_)) / (1 - zeta2_ / zetan_);
}

uint64_t Zipfian::Next(Rng& rng, uint64_t items) {
  if (items > items_) Recompute(items);
  const double u = rng.NextDouble();
  const double uz = u * zetan_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return 1 < items ? 1 : 0;
  uint64_t r = static_cast<uint64_t>(items * std::pow(eta_ * u - eta_ + 1, alpha_));
  return r < items ? r : items - 1;
}

}  // namespace ringdb_bench
