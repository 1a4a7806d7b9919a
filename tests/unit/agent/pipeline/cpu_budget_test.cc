// CpuBudget: the startup warning when the packet threads outnumber the CPUs.
#include "agent/pipeline/cpu_budget.h"

#include <gtest/gtest.h>

#include <thread>

namespace ipattrib::agent {
namespace {

TEST(CpuBudgetTest, OneWorkerRunsOnTheCaptureThreadAndAlwaysFits) {
  EXPECT_EQ(cpu_oversubscription_warning(1, false, 1), "");
  EXPECT_EQ(cpu_oversubscription_warning(1, true, 1), "");
}

TEST(CpuBudgetTest, RingFedWorkersNeedACpuForTheCaptureThreadToo) {
  EXPECT_EQ(cpu_oversubscription_warning(2, true, 3), "");
  EXPECT_EQ(cpu_oversubscription_warning(3, true, 4), "");
  const std::string two_on_two = cpu_oversubscription_warning(2, true, 2);
  EXPECT_NE(two_on_two.find("3 busy packet threads (2 workers and the capture thread feeding them) share 2 CPU(s)"),
            std::string::npos)
      << two_on_two;
  EXPECT_NE(two_on_two.find("workers = 1 (the whole path on the capture thread)"), std::string::npos) << two_on_two;
  const std::string eight_on_four = cpu_oversubscription_warning(8, true, 4);
  EXPECT_NE(eight_on_four.find("9 busy packet threads"), std::string::npos) << eight_on_four;
  EXPECT_NE(eight_on_four.find("workers = 3"), std::string::npos) << eight_on_four;
}

TEST(CpuBudgetTest, WorkersReadingTheirOwnQueuesNeedOnlyTheirOwnCpus) {
  EXPECT_EQ(cpu_oversubscription_warning(2, false, 2), "");
  const std::string four_on_two = cpu_oversubscription_warning(4, false, 2);
  EXPECT_NE(four_on_two.find("4 busy packet threads (4 workers) share 2 CPU(s)"), std::string::npos) << four_on_two;
  EXPECT_NE(four_on_two.find("workers = 2"), std::string::npos) << four_on_two;
}

TEST(CpuBudgetTest, CountsTheCpusThisProcessMayUse) {
  const int cpus = cpus_available();
  EXPECT_GE(cpus, 1);
  EXPECT_LE(cpus, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace ipattrib::agent
