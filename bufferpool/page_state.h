// PageState: one frame's latch and version in a single atomic 64-bit word,
// after vmcache's PageState. Private to bufferpool/.
//
// The word is [latch: 8 bits][version: 56 bits]. The latch byte is
//   0            unlocked
//   1..kMaxShared that many shared holders
//   kExclusive   one exclusive holder (a writer, a loader, an evictor)
//   kEvicted     the frame holds no page (it is free)
// and the version grows by one at every exclusive unlock, whatever the
// exclusive holder did (changed the page, loaded it, evicted it). Shared
// latching and unlatching never change the version.
//
// Optimistic reads: ReadVersion() waits while the word is exclusive and
// returns the version; the reader then reads the page without any latch and
// calls Validate(version), which is true only when no exclusive latch was
// taken in between and none is held now, so that what it read is a
// consistent image of the page. Such a reader writes nothing.
//
// Waiting: a latch that cannot be had spins briefly and then sleeps in
// std::atomic::wait on the word; unlockers call notify_all only when a
// waiter announced itself in waiters_ (seq_cst on both sides, so either the
// waiter sees the new word or the unlocker sees the waiter).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringdb {

class PageState {
 public:
  static constexpr uint64_t kUnlocked = 0;
  static constexpr uint64_t kMaxShared = 252;
  static constexpr uint64_t kExclusive = 254;
  static constexpr uint64_t kEvicted = 255;
  static constexpr int kLatchShift = 56;
  static constexpr uint64_t kVersionMask = (uint64_t{1} << kLatchShift) - 1;

  static constexpr uint64_t Latch(uint64_t word) { return word >> kLatchShift; }
  static constexpr uint64_t Version(uint64_t word) { return word & kVersionMask; }
  static constexpr uint64_t Pack(uint64_t latch, uint64_t version) {
    return (latch << kLatchShift) | (version & kVersionMask);
  }

  PageState() = default;
  PageState(const PageState&) = delete;
  PageState& operator=(const PageState&) = delete;

  uint64_t Load() const { return word_.load(std::memory_order_acquire); }

  // Blocking latches. Return false, holding nothing, when the frame is (or
  // becomes, while waiting) evicted: the caller looks its page up again.
  bool LockExclusive() {
    for (uint32_t spins = 0;; spins++) {
      uint64_t w = word_.load(std::memory_order_relaxed);
      uint64_t latch = Latch(w);
      if (latch == kEvicted) return false;
      if (latch == kUnlocked &&
          word_.compare_exchange_weak(w, Pack(kExclusive, Version(w)), std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        return true;
      }
      if (latch != kUnlocked) Backoff(w, spins);
    }
  }

  bool LockShared() {
    for (uint32_t spins = 0;; spins++) {
      uint64_t w = word_.load(std::memory_order_relaxed);
      uint64_t latch = Latch(w);
      if (latch == kEvicted) return false;
      if (latch < kMaxShared) {
        if (word_.compare_exchange_weak(w, w + (uint64_t{1} << kLatchShift),
                                        std::memory_order_acquire, std::memory_order_relaxed)) {
          return true;
        }
        continue;
      }
      Backoff(w, spins);
    }
  }

  // Non-blocking forms used by the evictor, which never waits for a latch.
  // Shared, only when nobody holds the frame at all.
  bool TrySharedIfUnlocked() {
    uint64_t w = word_.load(std::memory_order_relaxed);
    return Latch(w) == kUnlocked &&
           word_.compare_exchange_strong(w, w + (uint64_t{1} << kLatchShift),
                                         std::memory_order_acquire, std::memory_order_relaxed);
  }
  // Shared without waiting: fails while exclusive or evicted.
  bool TryShared() {
    uint64_t w = word_.load(std::memory_order_relaxed);
    while (Latch(w) < kMaxShared) {
      if (word_.compare_exchange_weak(w, w + (uint64_t{1} << kLatchShift),
                                      std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  // Exclusive from "unlocked at `version`": fails when anybody holds it or
  // the version moved.
  bool TryExclusiveAt(uint64_t version) {
    uint64_t w = Pack(kUnlocked, version);
    return word_.compare_exchange_strong(w, Pack(kExclusive, version), std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  bool TryExclusive() {
    uint64_t w = word_.load(std::memory_order_relaxed);
    return Latch(w) == kUnlocked && TryExclusiveAt(Version(w));
  }
  // Shared at exactly `version` (an optimistic reader turning pessimistic).
  bool TrySharedAt(uint64_t version) {
    for (;;) {
      uint64_t w = word_.load(std::memory_order_relaxed);
      if (Version(w) != version || Latch(w) >= kMaxShared) return false;
      if (word_.compare_exchange_weak(w, w + (uint64_t{1} << kLatchShift),
                                      std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
  }
  // A free frame's latch: evicted -> exclusive. Only the thread that took
  // the frame off the free list calls it, so it cannot fail.
  bool TryClaimEvicted() {
    uint64_t w = word_.load(std::memory_order_relaxed);
    return Latch(w) == kEvicted &&
           word_.compare_exchange_strong(w, Pack(kExclusive, Version(w)),
                                         std::memory_order_acquire, std::memory_order_relaxed);
  }
  // The caller's shared latch becomes exclusive when it is the only holder.
  bool TryUpgrade() {
    uint64_t w = word_.load(std::memory_order_relaxed);
    return Latch(w) == 1 &&
           word_.compare_exchange_strong(w, Pack(kExclusive, Version(w)),
                                         std::memory_order_acquire, std::memory_order_relaxed);
  }

  // Require: the caller holds the exclusive latch. Each bumps the version.
  void UnlockExclusive() { Publish(kUnlocked); }
  void DowngradeToShared() { Publish(1); }
  void UnlockEvicted() { Publish(kEvicted); }

  // Require: the caller holds a shared latch.
  void UnlockShared() {
    uint64_t w = word_.fetch_sub(uint64_t{1} << kLatchShift, std::memory_order_seq_cst);
    if (Latch(w) == 1) NotifyIfWaiting();
  }

  // Optimistic reads (see the file comment). Returns false when the frame
  // is evicted (no page to read).
  bool ReadVersion(uint64_t* version) {
    for (uint32_t spins = 0;; spins++) {
      uint64_t w = word_.load(std::memory_order_acquire);
      uint64_t latch = Latch(w);
      if (latch == kEvicted) return false;
      if (latch != kExclusive) {
        *version = Version(w);
        return true;
      }
      Backoff(w, spins);
    }
  }
  bool Validate(uint64_t version) const {
#if defined(__SANITIZE_THREAD__)
    // TSan does not model fences; a read-modify-write orders the same way.
    uint64_t w = const_cast<std::atomic<uint64_t>&>(word_).fetch_add(0, std::memory_order_acq_rel);
#else
    // Orders the reader's loads of the page before this load (seqlock).
    std::atomic_thread_fence(std::memory_order_acquire);
    uint64_t w = word_.load(std::memory_order_relaxed);
#endif
    return Version(w) == version && Latch(w) != kExclusive && Latch(w) != kEvicted;
  }

 private:
  void Publish(uint64_t latch) {
    uint64_t w = word_.load(std::memory_order_relaxed);
    word_.store(Pack(latch, Version(w) + 1), std::memory_order_seq_cst);
    NotifyIfWaiting();
  }
  void NotifyIfWaiting() {
    if (waiters_.load(std::memory_order_seq_cst) != 0) word_.notify_all();
  }
  // Spins a little while the word stays `seen`, then sleeps until it
  // changes.
  void Backoff(uint64_t seen, uint32_t spins) {
    if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      return;
    }
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    word_.wait(seen, std::memory_order_seq_cst);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }

  std::atomic<uint64_t> word_{Pack(kEvicted, 0)};
  std::atomic<uint32_t> waiters_{0};
};

}  // namespace ringdb
