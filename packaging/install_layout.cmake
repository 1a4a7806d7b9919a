# Runs at install time (cmake --install, and CPack's staging install), when
# CMAKE_INSTALL_PREFIX and DESTDIR are final: places the example configs and
# the systemd units for the chosen prefix. Prefix /usr (the .deb packages)
# means /etc/ipattrib and /usr/bin; any other prefix P means P/etc/ipattrib
# and P/bin, written into the units and configs so they agree.
#
# ipattrib_install_config(SOURCE NAME): never overwrites an existing config.
# ipattrib_install_unit(SOURCE): always replaces the unit.

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(IPATTRIB_ETC_DIR "/etc/ipattrib")
else()
  set(IPATTRIB_ETC_DIR "${CMAKE_INSTALL_PREFIX}/etc/ipattrib")
endif()
set(IPATTRIB_BIN_DIR "${CMAKE_INSTALL_PREFIX}/bin")
set(IPATTRIB_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")

# The example configs use paths relative to a source checkout; installed, they
# point into the configuration and state directories instead.
function(ipattrib_installed_paths text out)
  string(REPLACE "\"var/pki/" "\"${IPATTRIB_ETC_DIR}/pki/" text "${text}")
  string(REPLACE "\"config/" "\"${IPATTRIB_ETC_DIR}/" text "${text}")
  string(REPLACE "\"var/geo/" "\"/var/lib/ipattrib/geo/" text "${text}")
  string(REPLACE "\"var/" "\"/var/lib/ipattrib/" text "${text}")
  string(REPLACE "\"/etc/ipattrib/" "\"${IPATTRIB_ETC_DIR}/" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(ipattrib_install_config source name)
  set(dest "$ENV{DESTDIR}${IPATTRIB_ETC_DIR}/${name}")
  if(EXISTS "${dest}")
    message(STATUS "Keeping existing config: ${dest}")
    return()
  endif()
  file(READ "${source}" text)
  ipattrib_installed_paths("${text}" text)
  message(STATUS "Installing config: ${dest}")
  file(WRITE "${dest}" "${text}")
  file(CHMOD "${dest}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

function(ipattrib_install_unit source)
  get_filename_component(name "${source}" NAME)
  set(dest "$ENV{DESTDIR}${IPATTRIB_UNIT_DIR}/${name}")
  file(READ "${source}" text)
  string(REPLACE "/usr/bin/" "${IPATTRIB_BIN_DIR}/" text "${text}")
  string(REPLACE "/etc/ipattrib/" "${IPATTRIB_ETC_DIR}/" text "${text}")
  string(REPLACE "file:///usr/share/" "file://${CMAKE_INSTALL_PREFIX}/share/" text "${text}")
  message(STATUS "Installing unit: ${dest}")
  file(WRITE "${dest}" "${text}")
  file(CHMOD "${dest}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()
