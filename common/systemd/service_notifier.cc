#include "common/systemd/service_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace ipattrib {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us: a
  // child process must not ping on the daemon's behalf.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_interval_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::send(const char* message) const {
  // Failures are ignored on purpose: a lost notification must not stop the
  // daemon, and systemd reports a unit that never became ready.
  if (enabled_) sd_notify(0, message);
}

void ServiceNotifier::ready() const { send("READY=1"); }

void ServiceNotifier::status(std::string_view text) const {
  if (!enabled_) return;
  std::string message = "STATUS=";
  for (char c : text) message += (c == '\n' ? ' ' : c);  // the protocol is one assignment per line
  send(message.c_str());
}

void ServiceNotifier::reloading() const {
  if (!enabled_) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::uint64_t usec = std::uint64_t(ts.tv_sec) * 1000000 + std::uint64_t(ts.tv_nsec) / 1000;
  send(("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

void ServiceNotifier::stopping() const { send("STOPPING=1"); }

void ServiceNotifier::watchdog_ping(Clock::time_point now) {
  if (watchdog_interval_.count() == 0) return;
  if (pinged_ && now - last_ping_ < watchdog_interval_ / 2) return;
  send("WATCHDOG=1");
  pinged_ = true;
  last_ping_ = now;
}

}  // namespace ipattrib
