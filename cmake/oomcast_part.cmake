# oomcast_add_part(NAME SOURCES src... [PUBLIC deps...] [PRIVATE deps...])
# One library of a part: target oomcast_NAME, alias oomcast::NAME, the part's include/ folder
# public, and its dependencies (third-party ones PRIVATE: no third-party type is in a public
# header). Every part's CMakeLists.txt declares its libraries with it.
function(oomcast_add_part name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(oomcast_${name} ${ARG_SOURCES})
  add_library(oomcast::${name} ALIAS oomcast_${name})
  target_include_directories(oomcast_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(oomcast_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
endfunction()
