// addon.cc — the expiry loop: timerfds, one epoll set, libuv, and dispatch to JS.
//
// HOW and WHY
// -----------
// * One timerfd per clock (MONOTONIC, REALTIME, BOOTTIME, TAI), never one per
//   timer. Each is programmed with TFD_TIMER_ABSTIME to the earliest *hard*
//   expiry over the clock's two queues (hard base and SOFT base), exactly as the
//   kernel programs its clock-event device for the earliest hard expiry of all
//   bases. The queues themselves are JS (lib/internal/hrtimer-queue.ts): an arm
//   that does not move a clock's earliest wake-up never crosses into native
//   code; JS calls program() when it does (Program() below). timerfd does not accept CLOCK_TAI, so the TAI timerfd is a
//   CLOCK_REALTIME timerfd armed at (tai_expiry - (TAI - REALTIME)); the offset
//   is re-read at every arm and every wake-up, so a leap-second change of the
//   offset is picked up by the next arm (documented in the README).
// * The four timerfds sit in one epoll set; the epoll fd is watched by the
//   environment's own libuv loop through a uv_poll handle. Expiries therefore
//   reach JS on the JS thread with no extra thread and no thread-safe function.
//   This path was chosen by measurement (docs/performance.md):
//   it had lower median and tail latency than a native thread +
//   napi_threadsafe_function, which fell further behind when the JS thread was
//   busy and coalesced ticks.
// * A wake-up is one batch: Wake() reads each clock once into a shared
//   BigInt64Array, then makes ONE call into JS (MakeCallback, so microtasks run
//   after the whole pass, as task context runs after an interrupt). JS pops the
//   due timers from its own queues: a pass costs one N-API call, not one per timer.
// * Re-arming the timerfd happens *after* the callbacks ran (in_pass_ defers all
//   re-arms JS asks for to the end of Wake()): a re-arm syscall on the wake path
//   would delay the first callback by its own cost. timerfd_settime also clears the
//   fd's readable state, so the expiration count is never read (one syscall
//   saved per wake-up).
// * The uv_poll handle is ref'd exactly while at least one ref'd timer is armed,
//   like Node's own timers (JS counts them and calls setRef() when the count
//   crosses zero); unref'd timers never keep the process alive.
// * Spin (hybrid wake-up, hrtimer_set_spin_ns). The OS wake-up path (timerfd
//   expiry -> epoll -> libuv -> JS) costs the OS wake-up latency, mostly the CPU
//   leaving idle and the scheduler switching to the thread. A spinning timer moves that
//   cost before its expiry: the clock's timerfd is programmed at the earliest
//   *wake-up time* (hard - spin over the clock's spinning entries, else the
//   earliest hard expiry: JS computes it), and Wake() busy-waits on the clock
//   until the earliest spinning timer is due (its soft expiry on a hard base;
//   its hard expiry on a SOFT base, where HRTIMER_SOFTIRQ is raised by hard
//   expiries), then runs the pass as usual. The due test is untouched, so a spinning timer is never run
//   early and the run order (hard, seq) is the same with or without spin; only
//   the wake-up moves. The busy-wait is bounded by the entry's spin on
//   CLOCK_MONOTONIC too (a REALTIME/TAI clock set backwards cannot stretch it),
//   and its total is counted (state().spinNs: the CPU cost of the feature).
//   Virtual bases never spin: virtual time only moves when the test advances
//   it and a virtual timer already runs at its exact expiry.
#include "addon.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ktimers {

namespace {

constexpr int64_t kNsPerSec = 1000000000;

// The kernel's cpu_relax(): tell the core we are busy-waiting (frees pipeline
// resources for a sibling hyperthread, saves power) without giving up the CPU.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

int64_t ReadClock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

}  // namespace

clockid_t LinuxClockId(int clock) {
  switch (clock) {
    case kReal: return CLOCK_REALTIME;
    case kBoot: return CLOCK_BOOTTIME;
    case kTai: return CLOCK_TAI;
    default: return CLOCK_MONOTONIC;
  }
}

Addon::Addon(Napi::Env env) : env_(env) {}

Addon* Addon::Create(Napi::Env env, Napi::Function on_wake, std::string* err) {
  std::unique_ptr<Addon> a(new Addon(env));
  a->epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (a->epfd_ < 0) {
    *err = "epoll_create1";
    return nullptr;
  }
  for (int c = 0; c < kNumClocks; c++) {
    // TAI rides on a REALTIME timerfd (timerfd_create rejects CLOCK_TAI).
    clockid_t id = c == kTai ? CLOCK_REALTIME : LinuxClockId(c);
    int fd = timerfd_create(id, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
      *err = "timerfd_create";
      return nullptr;
    }
    a->clocks_[c].fd = fd;
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(c);
    if (epoll_ctl(a->epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      *err = "epoll_ctl";
      return nullptr;
    }
  }

  napi_env raw = env;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(raw, &loop) != napi_ok || loop == nullptr) {
    *err = "napi_get_uv_event_loop";
    errno = EINVAL;
    return nullptr;
  }
  a->poll_ = new uv_poll_t;
  if (uv_poll_init(loop, a->poll_, a->epfd_) != 0) {
    delete a->poll_;
    a->poll_ = nullptr;
    *err = "uv_poll_init";
    errno = EINVAL;
    return nullptr;
  }
  a->poll_->data = a.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(a->poll_));
  if (uv_poll_start(a->poll_, UV_READABLE, OnPoll) != 0) {
    *err = "uv_poll_start";
    errno = EINVAL;
    return nullptr;
  }

  // Shared buffer (see addon.h).
  void* data = nullptr;
  napi_value ab;
  napi_create_arraybuffer(raw, sizeof(int64_t) * kIoSize, &data, &ab);
  a->pass_now_ = static_cast<int64_t*>(data);
  napi_create_reference(raw, ab, 1, &a->now_ref_);

  napi_create_reference(raw, on_wake, 1, &a->on_wake_);
  napi_value resource_name;
  napi_create_string_utf8(raw, "ktimers:expiry", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(raw, nullptr, resource_name, &a->async_ctx_);
  napi_add_async_cleanup_hook(raw, OnCleanup, a.get(), &a->cleanup_);
  return a.release();
}

Addon::~Addon() {
  for (auto& c : clocks_) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
  }
  if (epfd_ >= 0) close(epfd_);
  epfd_ = -1;
}

// Environment teardown (process exit, Worker exit or terminate()). The uv_poll
// handle must be closed on the loop, so this is an *async* cleanup hook: the
// Addon is freed in the close callback, after libuv is done with the handle.
void Addon::OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  Addon* a = static_cast<Addon*>(arg);
  napi_env env = a->env_;
  if (a->on_wake_) napi_delete_reference(env, a->on_wake_);
  if (a->now_ref_) napi_delete_reference(env, a->now_ref_);
  a->on_wake_ = a->now_ref_ = nullptr;
  a->pass_now_ = nullptr;
  if (a->async_ctx_) napi_async_destroy(env, a->async_ctx_);
  a->async_ctx_ = nullptr;
  napi_set_instance_data(env, nullptr, nullptr, nullptr);
  a->watching_ = false;
  // Each handle is freed in its own close callback; the Addon goes with the last.
  a->closing_ = 1;  // held until both closes are issued
  if (a->poll_) {
    a->closing_++;
    uv_poll_stop(a->poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(a->poll_), OnClosed);
  }
  if (a->prepare_) {
    a->closing_++;
    uv_prepare_stop(a->prepare_);
    uv_close(reinterpret_cast<uv_handle_t*>(a->prepare_), OnPrepareClosed);
  }
  a->ClosedOne();
}

void Addon::ClosedOne() {
  if (--closing_ > 0) return;
  napi_async_cleanup_hook_handle hook = cleanup_;
  delete this;
  napi_remove_async_cleanup_hook(hook);
}

void Addon::OnClosed(uv_handle_t* h) {
  Addon* a = static_cast<Addon*>(h->data);
  delete reinterpret_cast<uv_poll_t*>(h);
  a->poll_ = nullptr;
  a->ClosedOne();
}

void Addon::OnPrepareClosed(uv_handle_t* h) {
  Addon* a = static_cast<Addon*>(h->data);
  delete reinterpret_cast<uv_prepare_t*>(h);
  a->prepare_ = nullptr;
  a->ClosedOne();
}

int64_t Addon::Now(int clock) const { return ReadClock(LinuxClockId(clock)); }

int Addon::Reprogram(int clock, bool force) {
  ClockState& cs = clocks_[clock];
  int64_t want = cs.want;
  if (!force && want == cs.programmed) return 0;
  struct itimerspec its = {};
  if (want != INT64_MIN) {
    int64_t at = want;
    if (clock == kTai) {
      // Arm the REALTIME timerfd at the wall time that corresponds to `want`.
      // The TAI offset is a whole number of seconds; reading the two clocks one
      // after the other is off by tens of ns, so round to the nearest second.
      int64_t raw = ReadClock(CLOCK_TAI) - ReadClock(CLOCK_REALTIME);
      int64_t off = (raw >= 0 ? raw + kNsPerSec / 2 : raw - kNsPerSec / 2) / kNsPerSec * kNsPerSec;
      if (__builtin_sub_overflow(want, off, &at)) at = off > 0 ? INT64_MIN : INT64_MAX;
    }
    // it_value {0,0} would disarm; anything already due is armed at 1 ns
    // (absolute), which the kernel treats as expired.
    if (at < 1) at = 1;
    its.it_value.tv_sec = static_cast<time_t>(at / kNsPerSec);
    its.it_value.tv_nsec = static_cast<long>(at % kNsPerSec);
  }
  if (timerfd_settime(cs.fd, TFD_TIMER_ABSTIME, &its, nullptr) < 0) return errno;
  cs.programmed = want;
  return 0;
}

int Addon::Program(int clock, int64_t want, int64_t spin_wake, int64_t spin_due, int64_t spin_budget) {
  ClockState& cs = clocks_[clock];
  cs.want = want;
  cs.spin_wake = spin_wake;
  cs.spin_due = spin_due;
  cs.spin_budget = spin_budget;
  if (in_pass_) {
    cs.dirty = true;
    return 0;
  }
  return Reprogram(clock, false);
}

void Addon::SetRef(bool refd) {
  if (refd_ == refd) return;
  refd_ = refd;
  if (!poll_) return;
  if (refd) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

void Addon::OnPoll(uv_poll_t* handle, int status, int events) {
  static_cast<Addon*>(handle->data)->Wake();
}

// The spin phase of a wake-up (see "Spin" at the top): on a clock whose
// earliest spinning timer wants to wake by now, busy-wait until the earliest
// spinning timer is due, for at most the waking timer's spin. One target per
// clock per wake-up: a second spinner due later is served by the next wake-up,
// which its own (already past) wake-up time makes immediate.
void Addon::SpinUntilDue() {
  for (int c = 0; c < kNumClocks; c++) {
    const ClockState& cs = clocks_[c];
    if (cs.spin_wake == INT64_MIN) continue;
    int64_t now = Now(c);
    if (cs.spin_wake > now || cs.spin_due <= now) continue;
    int64_t target = cs.spin_due;
    int64_t budget = cs.spin_budget;
    int64_t t0 = ReadClock(CLOCK_MONOTONIC);
    int64_t mono = t0;
    while (Now(c) < target && mono - t0 <= budget) {
      cpu_relax();
      mono = ReadClock(CLOCK_MONOTONIC);
    }
    spin_total_ns_ += mono - t0;
  }
}

void Addon::Wake() {
  struct epoll_event evs[kNumClocks];
  int n = epoll_wait(epfd_, evs, kNumClocks, 0);
  wake_count_++;
  for (int i = 0; i < n; i++) {
    uint32_t c = evs[i].data.u32;
    if (c < kNumClocks) clocks_[c].fired = true;
  }
  SpinUntilDue();
  // Sample every clock once per pass ("now" is fixed for the whole pass, as the
  // kernel samples the base time once per hrtimer_interrupt). Which bases are
  // due (and the softirq rule) JS decides from its queues.
  uint32_t fired = 0;
  for (int c = 0; c < kNumClocks; c++) {
    pass_now_[c] = Now(c);
    if (clocks_[c].fired) fired |= 1u << c;
  }
  if (fired != 0 && on_wake_ != nullptr) {
    in_pass_ = true;
    napi_env env = env_;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value fn, recv, arg, result;
    napi_get_reference_value(env, on_wake_, &fn);
    napi_get_global(env, &recv);  // make_callback needs an object receiver
    napi_create_uint32(env, fired, &arg);
    napi_status st = napi_make_callback(env, async_ctx_, recv, fn, 1, &arg, &result);
    if (st != napi_ok) {
      // The JS dispatcher catches callback exceptions itself; anything that
      // escapes (or a pending exception we cannot leave on a libuv callback) is
      // routed to 'uncaughtException' like an error in a Node timer.
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
      }
    }
    napi_close_handle_scope(env, scope);
    in_pass_ = false;
  }
  // Teardown may have started inside the callback (worker.terminate()).
  if (epfd_ < 0) return;
  for (int c = 0; c < kNumClocks; c++) {
    ClockState& cs = clocks_[c];
    if (cs.fired || cs.dirty) Reprogram(c, cs.fired);
    cs.fired = cs.dirty = false;
  }
}

}  // namespace ktimers
