// The interactive prompt: libedit line editing, persistent history and tab
// completion of command names.
//
// History lives in $RINGDB_HISTORY when set (empty: no history file), else
// in ~/.ringdb_history. Call from the main thread only (libedit and the
// SIGINT handler are process-wide).
#pragma once

#include <cstdio>
#include <string>

#include "shell_commands.h"

namespace ringdb::shell {

// The history file to use, or "" for none.
std::string HistoryPath();

// Prints `banner`, then prompts until quit, exit or end of input (Ctrl-D).
// Ctrl-C stops a long command or clears the line instead of leaving.
// Returns the exit status (0; failed commands are only reported).
int RunInteractive(ShellContext* ctx, const std::string& banner, FILE* err);

}  // namespace ringdb::shell
