"""lldb OperatingSystem plugin: suspended tangle tasks as threads.

lldb loads (and reloads) this file itself from the setting
target.process.python-os-plugin-path, which the module and `tangle threads
on` set, and instantiates OperatingSystemPlugIn once per process (on a live
process, again after each module load until the table can be read). It keeps no state:
everything lives in tangle_lldb_threads, which a reload does not reset.
"""

import tangle_lldb_threads


class OperatingSystemPlugIn(object):
    def __init__(self, process):
        # raises NotReady while the table cannot be read (live processes)
        self.model = tangle_lldb_threads.new_model(process)

    def get_thread_info(self):
        return self.model.thread_info()

    def get_register_info(self):
        return self.model.register_info()

    def get_register_data(self, tid):
        return self.model.register_data(tid)

    def create_thread(self, tid, context):
        return self.model.create_thread(tid)
