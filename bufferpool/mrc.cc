// MissRatioCurve: see mrc.h.
#include "bufferpool/mrc.h"

#include <algorithm>
#include <cmath>

#include "util/check.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {
namespace {

constexpr uint32_t kBins = 4096;  // regular bins up to 8x the pool

}  // namespace

MissRatioCurve::MissRatioCurve(uint32_t pool_frames, const MrcOptions& options)
    : pool_frames_(std::max<uint32_t>(1, pool_frames)), options_(options) {
  double rate = options.initial_rate;
  if (rate <= 0) {
    rate = std::max(0.01, static_cast<double>(options.min_sim_frames) / pool_frames_);
  }
  rate = std::min(rate, 1.0);
  initial_threshold_ = static_cast<uint32_t>(
      std::clamp<double>(std::ceil(rate * kHashSpace), 1, static_cast<double>(kHashSpace)));
  bin_frames_ = 8.0 * pool_frames_ / kBins;
  {
    MutexLock lock(&mu_);
    ResetLocked();
  }
  if (options_.background) worker_ = std::thread([this] { WorkerLoop(); });
}

MissRatioCurve::~MissRatioCurve() {
  if (!worker_.joinable()) return;
  {
    MutexLock lock(&queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  worker_.join();
}

void MissRatioCurve::WorkerLoop() {
  for (;;) {
    {
      MutexLock lock(&queue_mu_);
      while (!stop_ && pending_.size() < kWakeAt) queue_cv_.wait(queue_mu_);
      if (stop_) return;
    }
    MutexLock lock(&mu_);
    ProcessPendingLocked();
  }
}

void MissRatioCurve::ProcessPendingLocked() {
  {
    MutexLock lock(&queue_mu_);
    work_.swap(pending_);
  }
  for (uint64_t page : work_) Process(page);
  work_.clear();
}

void MissRatioCurve::ResetLocked() {
  threshold_.store(initial_threshold_, std::memory_order_relaxed);
  tracked_.clear();
  by_hash_ = {};
  fenwick_.assign(4 * size_t{std::max<uint32_t>(options_.max_samples, 16)}, 0);
  clock_ = 0;
  hist_.assign(kBins + 1, 0.0);
  cold_ = total_ = 0;
  samples_ = 0;
  accesses_at_reset_ = access_count_ ? access_count_() : 0;
  StartSims();
}

void MissRatioCurve::Reset() {
  MutexLock lock(&mu_);
  {
    MutexLock q(&queue_mu_);
    pending_.clear();
  }
  for (Stripe& s : stripes_) {
    s.Lock();
    s.n = 0;
    s.Unlock();
  }
  ResetLocked();
}

void MissRatioCurve::SetPoolFrames(uint32_t frames) {
  DrainAll();
  MutexLock lock(&mu_);
  pool_frames_ = std::max<uint32_t>(1, frames);
  StartSims();
}

void MissRatioCurve::SetAccessCounter(std::function<uint64_t()> count) {
  MutexLock lock(&mu_);
  access_count_ = std::move(count);
  accesses_at_reset_ = accesses_at_sims_ = access_count_();
}

double MissRatioCurve::ExpectedSamples(uint64_t since) {
  if (!access_count_) return -1;
  uint64_t now = access_count_();
  return now <= since ? 0.0 : static_cast<double>(now - since) * CurrentRate();
}

void MissRatioCurve::StartSims() {
  sims_.clear();
  accesses_at_sims_ = access_count_ ? access_count_() : 0;
  if (!options_.simulate_policies) return;
  uint32_t frames =
      static_cast<uint32_t>(std::max<double>(1, std::llround(pool_frames_ * CurrentRate())));
  for (const std::string& name : EvictionPolicyNames()) {
    std::unique_ptr<PolicySimulator> sim = PolicySimulator::Create(name, frames);
    RINGDB_CHECK(sim != nullptr);
    sims_.push_back(std::move(sim));
  }
}

void MissRatioCurve::RecordSampled(uint64_t page) {
  uint64_t batch[kSlots];
  {
    Stripe& s = stripes_[ThreadStripeIndex()];
    s.Lock();
    s.pages[s.n++] = page;
    const bool full = s.n == kSlots;
    if (full) {
      std::copy(s.pages, s.pages + kSlots, batch);
      s.n = 0;
    }
    s.Unlock();
    if (!full) return;
  }
  Enqueue(batch, kSlots);
}

void MissRatioCurve::Enqueue(const uint64_t* pages, uint32_t n) {
  bool full, wake;
  {
    MutexLock lock(&queue_mu_);
    const size_t before = pending_.size();
    pending_.insert(pending_.end(), pages, pages + n);
    full = !options_.background || pending_.size() >= kMaxPending;
    wake = before < kWakeAt && pending_.size() >= kWakeAt;
  }
  if (!full) {
    if (wake) queue_cv_.notify_one();
    return;
  }
  MutexLock lock(&mu_);
  ProcessPendingLocked();
}

void MissRatioCurve::DrainAll() {
  MutexLock lock(&mu_);
  ProcessPendingLocked();
  for (Stripe& s : stripes_) {
    uint64_t batch[kSlots];
    uint32_t n;
    {
      s.Lock();
      n = s.n;
      std::copy(s.pages, s.pages + n, batch);
      s.n = 0;
      s.Unlock();
    }
    for (uint32_t i = 0; i < n; i++) Process(batch[i]);
  }
}

void MissRatioCurve::FenwickAdd(uint32_t i, int32_t d) {
  for (size_t k = size_t{i} + 1; k <= fenwick_.size(); k += k & (~k + 1)) {
    fenwick_[k - 1] += d;
  }
}

uint32_t MissRatioCurve::FenwickPrefix(uint32_t i) {
  uint32_t sum = 0;
  for (size_t k = i; k > 0; k -= k & (~k + 1)) sum += fenwick_[k - 1];
  return sum;
}

void MissRatioCurve::Process(uint64_t page) {
  uint32_t hash = Hash(page);
  if (hash >= threshold_.load(std::memory_order_relaxed)) return;  // left the sample
  samples_++;
  if (clock_ == fenwick_.size()) Renumber();
  const uint32_t now = clock_++;
  total_ += 1;
  auto [it, inserted] = tracked_.try_emplace(page, Tracked{now, hash});
  if (inserted) {
    cold_ += 1;
    by_hash_.push({hash, page});
  } else {
    uint32_t last = it->second.time;
    // Pages accessed after `last`, plus this one: its LRU stack position.
    uint32_t distance = FenwickPrefix(now) - FenwickPrefix(last + 1) + 1;
    double scaled = distance / CurrentRate();
    size_t bin = static_cast<size_t>(std::ceil(scaled / bin_frames_));
    bin = bin == 0 ? 0 : std::min<size_t>(bin - 1, kBins);
    hist_[bin] += 1;
    FenwickAdd(last, -1);
    it->second.time = now;
  }
  FenwickAdd(now, +1);
  for (auto& sim : sims_) sim->Access(page);
  if (tracked_.size() > options_.max_samples) LowerThreshold();
}

void MissRatioCurve::LowerThreshold() {
  const double old_rate = CurrentRate();
  const uint32_t t = by_hash_.top().first;
  threshold_.store(t, std::memory_order_relaxed);
  while (!by_hash_.empty() && by_hash_.top().first >= t) {
    uint64_t page = by_hash_.top().second;
    by_hash_.pop();
    auto it = tracked_.find(page);
    RINGDB_CHECK(it != tracked_.end());
    FenwickAdd(it->second.time, -1);
    tracked_.erase(it);
  }
  const double scale = CurrentRate() / old_rate;
  for (double& h : hist_) h *= scale;
  cold_ *= scale;
  total_ *= scale;
  StartSims();
}

void MissRatioCurve::Renumber() {
  std::vector<std::pair<uint32_t, uint64_t>> order;
  order.reserve(tracked_.size());
  for (const auto& [page, t] : tracked_) order.push_back({t.time, page});
  std::sort(order.begin(), order.end());
  std::fill(fenwick_.begin(), fenwick_.end(), 0);
  uint32_t time = 0;
  for (const auto& [old_time, page] : order) {
    tracked_[page].time = time;
    FenwickAdd(time, +1);
    time++;
  }
  clock_ = time;
}

double MissRatioCurve::MissRatioLocked(double frames) {
  double total = total_;
  double first_bin_adjust = 0;
  double expected = ExpectedSamples(accesses_at_reset_);
  if (expected > 0) {
    first_bin_adjust = expected - total_;
    total = expected;
  }
  if (total <= 0) return 0;
  // Hits at `frames`: references whose scaled distance is at most frames.
  double pos = frames / bin_frames_;
  size_t full = static_cast<size_t>(std::min<double>(std::floor(pos), kBins));
  double hits = 0;
  for (size_t b = 0; b < full; b++) hits += hist_[b] + (b == 0 ? first_bin_adjust : 0);
  if (full < kBins) {
    hits += (hist_[full] + (full == 0 ? first_bin_adjust : 0)) * (pos - static_cast<double>(full));
  }
  return std::clamp(1.0 - hits / total, 0.0, 1.0);
}

double MissRatioCurve::MissRatioAt(uint64_t frames) {
  DrainAll();
  MutexLock lock(&mu_);
  return MissRatioLocked(static_cast<double>(frames));
}

std::vector<MrcPoint> MissRatioCurve::Curve() {
  DrainAll();
  MutexLock lock(&mu_);
  std::vector<MrcPoint> out;
  for (int k = -12; k <= 12; k++) {
    double frames = pool_frames_ * std::pow(2.0, k / 4.0);
    MrcPoint p;
    p.frames = std::max<uint64_t>(1, std::llround(frames));
    if (!out.empty() && p.frames <= out.back().frames) continue;
    p.miss_ratio = MissRatioLocked(static_cast<double>(p.frames));
    out.push_back(p);
  }
  return out;
}

std::vector<PolicyEstimate> MissRatioCurve::Policies() {
  DrainAll();
  MutexLock lock(&mu_);
  std::vector<PolicyEstimate> out;
  double expected = ExpectedSamples(accesses_at_sims_);
  for (const auto& sim : sims_) {
    double ratio = sim->MissRatio();
    if (expected > 0) ratio = std::min(1.0, static_cast<double>(sim->misses()) / expected);
    out.push_back({sim->name(), ratio, sim->hits() + sim->misses()});
  }
  return out;
}

double MissRatioCurve::rate() {
  DrainAll();
  return CurrentRate();
}

uint64_t MissRatioCurve::samples() {
  DrainAll();
  MutexLock lock(&mu_);
  return samples_;
}

size_t MissRatioCurve::MemoryBytes() {
  MutexLock lock(&mu_);
  size_t bytes = tracked_.size() * 48 + by_hash_.size() * 16 + fenwick_.size() * 4 +
                 hist_.size() * 8 + sizeof(stripes_);
  for (const auto& sim : sims_) bytes += sim->MemoryBytes();
  return bytes;
}

}  // namespace ringdb
