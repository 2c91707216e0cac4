# ringdb_check_sources_listed(ROOT PATTERNS LISTED...): fails the configure
# step when a file matching one of the ;-separated PATTERNS (relative to
# ROOT) is not among LISTED. Sources are listed by hand (no file(GLOB) to
# build from), and this keeps a file added by a merge from being silently
# left out of the build.
function(ringdb_check_sources_listed root patterns)
  set(globs)
  foreach(pattern ${patterns})
    list(APPEND globs ${root}/${pattern})
  endforeach()
  file(GLOB found CONFIGURE_DEPENDS RELATIVE ${root} ${globs})
  set(missing)
  foreach(file ${found})
    if(NOT file IN_LIST ARGN)
      list(APPEND missing ${file})
    endif()
  endforeach()
  if(missing)
    message(FATAL_ERROR "Not in any source list of ${CMAKE_CURRENT_LIST_FILE}: ${missing}")
  endif()
endfunction()
