#!/usr/bin/env bash
# Installs the toolchain, Chromium and npm packages (skips what is there).
exec bash "$(dirname "$0")/../setup.sh" --test
