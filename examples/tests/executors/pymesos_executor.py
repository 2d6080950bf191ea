"""An HTTP executor written with pymesos 0.3.15's MesosExecutorDriver, for
the compat_executor test: it answers every launched task with TASK_RUNNING,
a framework message naming the task, then TASK_FINISHED, and exits when the
agent tells it to shut down.

The driver reads MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID
and friends from the environment the agent gives it, subscribes to
/api/v1/executor and speaks JSON.
"""

import sys
import threading

from pymesos import Executor, MesosExecutorDriver, encode_data


class AnsweringExecutor(Executor):
    def registered(self, driver, executor_info, framework_info, agent_info):
        print("registered on agent %s" % agent_info["id"]["value"], flush=True)

    def launchTask(self, driver, task):
        # Off the driver's I/O thread, as pymesos's examples do: the calls
        # below wait for the agent's answers.
        threading.Thread(target=self.run, args=(driver, task), daemon=True).start()

    def run(self, driver, task):
        task_id = task["task_id"]
        name = task_id["value"]
        print("running %s" % name, flush=True)
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_RUNNING"})
        driver.sendFrameworkMessage(encode_data(("ran " + name).encode("utf-8")))
        driver.sendStatusUpdate(
            {"task_id": task_id, "state": "TASK_FINISHED", "message": "answered by pymesos"}
        )

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate({"task_id": task_id, "state": "TASK_KILLED"})

    def shutdown(self, driver):
        print("shutdown", flush=True)

    def error(self, driver, message):
        print("error: %s" % message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    MesosExecutorDriver(AnsweringExecutor(), use_addict=False).run()
    print("driver stopped", flush=True)
