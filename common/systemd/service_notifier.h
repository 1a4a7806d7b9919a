// ServiceNotifier: tells systemd (Type=notify units) how the daemon is doing —
// ready, a one-line status, reloading, stopping — and pings the watchdog.
// Every call is a cheap no-op when the process was not started by systemd
// (no NOTIFY_SOCKET), so daemons call it unconditionally.
#pragma once

#include <chrono>
#include <string_view>

namespace ipattrib {

class ServiceNotifier {
 public:
  using Clock = std::chrono::steady_clock;

  // Reads NOTIFY_SOCKET and the watchdog settings (WATCHDOG_USEC, WATCHDOG_PID)
  // from the environment once; the environment is left as it is.
  ServiceNotifier();

  // True when a service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The interval systemd expects pings within (WatchdogSec=); zero when off.
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

  // READY=1: start-up finished (the unit becomes "active"), or a reload ended.
  void ready() const;
  // STATUS=<text>: shown by `systemctl status`; one line, no newline.
  void status(std::string_view text) const;
  // RELOADING=1 with MONOTONIC_USEC (as Type=notify-reload expects on newer
  // systemd); follow it with ready() when the reload is done.
  void reloading() const;
  // STOPPING=1: shutdown has begun (draining may take a while).
  void stopping() const;

  // WATCHDOG=1, sent at most once per half watchdog interval so a main loop
  // can call it every turn; no-op without a watchdog.
  void watchdog_ping() { watchdog_ping(Clock::now()); }
  void watchdog_ping(Clock::time_point now);

 private:
  void send(const char* message) const;

  bool enabled_ = false;
  std::chrono::microseconds watchdog_interval_{0};
  bool pinged_ = false;
  Clock::time_point last_ping_{};
};

}  // namespace ipattrib
