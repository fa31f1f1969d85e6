# halo_add_module(NAME <m> [DEPS <targets...>])
# Builds every .cpp in the calling directory into the static library halo_<m>.
function(halo_add_module)
  cmake_parse_arguments(A "" "NAME" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  if(NOT srcs)  # a module with headers only (so far)
    add_library(halo_${A_NAME} INTERFACE)
    target_include_directories(halo_${A_NAME} INTERFACE "${CMAKE_SOURCE_DIR}/src")
    target_link_libraries(halo_${A_NAME} INTERFACE ${A_DEPS})
    return()
  endif()
  add_library(halo_${A_NAME} STATIC ${srcs})
  target_include_directories(halo_${A_NAME} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_link_libraries(halo_${A_NAME} PUBLIC ${A_DEPS})
  set_target_properties(halo_${A_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# halo_add_test(MODULE <m> [DEPS <targets...>])
# One GoogleTest binary per module (test_<m>) from every *_test.cpp here, labelled unit;<m>.
function(halo_add_test)
  cmake_parse_arguments(A "" "MODULE" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp")
  if(NOT srcs)
    return()
  endif()
  add_executable(test_${A_MODULE} ${srcs})
  target_link_libraries(test_${A_MODULE} PRIVATE halo_${A_MODULE} ${A_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(test_${A_MODULE} PRIVATE
    HALO_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data"
    HALO_SHARED_DIR="${HALO_SHARED_DIR}")
  # One label, the module (gtest_discover_tests flattens a list into separate properties).
  # `make test` leaves out tests labelled `slow` (set with set_tests_properties) and suites
  # whose name ends in "Slow" (TEST(FooSlow, ...)).
  gtest_discover_tests(test_${A_MODULE} PROPERTIES LABELS ${A_MODULE} DISCOVERY_TIMEOUT 120)
endfunction()

# halo_add_bench(MODULE <m> [DEPS <targets...>])
function(halo_add_bench)
  cmake_parse_arguments(A "" "MODULE" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_bench.cpp")
  if(NOT srcs)
    return()
  endif()
  add_executable(bench_${A_MODULE} ${srcs})
  target_link_libraries(bench_${A_MODULE} PRIVATE halo_${A_MODULE} ${A_DEPS} benchmark::benchmark benchmark::benchmark_main)
  target_compile_definitions(bench_${A_MODULE} PRIVATE
    HALO_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data"
    HALO_SHARED_DIR="${HALO_SHARED_DIR}")
endfunction()
