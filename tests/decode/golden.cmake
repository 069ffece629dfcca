# golden.cmake: runs nc-decode-dump on one capture and compares its output
# with the golden file, byte for byte.
#   cmake -DTOOL=... -DMODE=--fields|--text -DPCAP=... -DGOLDEN=... -DARGS="a;b" -P golden.cmake
# With the environment variable NC_REGEN=1 it writes the golden file instead.
# The test passes ARGS with its semicolons escaped: unescape them into a list.
string(REPLACE "\\;" ";" ARGS "${ARGS}")
execute_process(COMMAND ${TOOL} ${MODE} ${ARGS} ${PCAP}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nc-decode-dump failed (${rc}) on ${PCAP}")
endif()
if("$ENV{NC_REGEN}" STREQUAL "1")
  file(WRITE "${GOLDEN}" "${out}")
  message(STATUS "wrote ${GOLDEN}")
  return()
endif()
if(NOT EXISTS "${GOLDEN}")
  message(FATAL_ERROR "no golden file ${GOLDEN}: run with NC_REGEN=1 (see tests/decode/README.md)")
endif()
file(READ "${GOLDEN}" want)
if(NOT out STREQUAL want)
  get_filename_component(name "${GOLDEN}" NAME)
  set(got "${CMAKE_CURRENT_BINARY_DIR}/${name}.got")
  file(WRITE "${got}" "${out}")
  execute_process(COMMAND diff -u "${GOLDEN}" "${got}")
  message(FATAL_ERROR "output differs from ${GOLDEN} (got: ${got})")
endif()
