# Writes OUT (a one-line header defining HALO_GIT_COMMIT) from `git describe` of SOURCE_DIR, run at
# every build (not at configure time), so that the provenance of every manifest and report names
# the commit that was built. The file is rewritten only when the text changes, so an unchanged
# commit recompiles nothing.
execute_process(COMMAND git describe --always --dirty --abbrev=12 --match "no-tags-wanted"
                WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "#define HALO_GIT_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
