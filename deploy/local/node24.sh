# Sourced (from the repository root) by with-node24.sh and .ci/run.

NODE24_VERSION=24.22.3

# Puts Node 24 first on PATH; when the machine's node is older, installs Node 24 from the npm registry
# into .tools/node (a package that ships the binary) on first use.
use_node24() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then
    return
  fi
  local package="node-linux-$(node24_arch)"
  local bin="$PWD/.tools/node/node_modules/$package/bin"
  if [ ! -x "$bin/node" ]; then
    if ! command -v npm >/dev/null; then
      echo "✗ Node.js 24 is needed and npm is missing to install it: install Node.js (https://nodejs.org), then run this again." >&2
      return 1
    fi
    echo "Node $(node -v 2>/dev/null || echo '(none)') is older than 24: installing Node $NODE24_VERSION into .tools/node"
    echo "+ npm install --prefix .tools/node $package@$NODE24_VERSION"
    npm install --prefix .tools/node "$package@$NODE24_VERSION"
    if [ ! -x "$bin/node" ]; then
      echo "✗ npm installed $package@$NODE24_VERSION but $bin/node is missing." >&2
      return 1
    fi
  fi
  export PATH="$bin:$PATH"
}

node24_arch() {
  case "$(uname -m)" in
    aarch64 | arm64) echo arm64 ;;
    *) echo x64 ;;
  esac
}

# Runs npm ci when node_modules is missing or older than package-lock.json.
install_dependencies_if_stale() {
  if [ -d node_modules ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    return
  fi
  echo "node_modules is missing or older than package-lock.json:"
  echo "+ npm ci"
  npm ci
}
