"""Test helper: `select-function NAME` selects the innermost frame of the
selected thread whose function is NAME, so that tests do not depend on
frame numbers (which differ between optimised and debug builds)."""


def select_function(debugger, command, exe_ctx, result, internal_dict):
    thread = exe_ctx.GetThread()
    for i in range(thread.GetNumFrames()):
        if thread.GetFrameAtIndex(i).GetFunctionName() == command.strip():
            thread.SetSelectedFrame(i)
            result.Print("frame #%d %s\n" % (i, command.strip()))
            return
    result.SetError("no frame of %s" % command.strip())


def __lldb_init_module(debugger, internal_dict):
    debugger.HandleCommand("command script add -o -f %s.select_function select-function"
                           % __name__)
