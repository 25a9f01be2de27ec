# Sourced by scripts/fetch-headers.sh and scripts/fetch-cpython-tests.sh:
# a private apt configuration for Debian sid under $APT (sources list, lists
# and cache dirs), so packages can be `apt-get download`ed without touching
# the machine's own apt sources. Defines `private_apt NAME`, which writes the
# sources list, sets the array `opts` (the apt-get options) and updates the
# private index; NAME prefixes its messages.
private_apt() {
  local name=$1 mirror
  mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { echo "$name: no Debian mirror found in the apt configuration" >&2; exit 1; }
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$APT/sources.list"
  opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/none"
        -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
  echo "$name: updating private sid index" >&2
  apt-get "${opts[@]}" update >&2 || { echo "$name: apt-get update (sid) failed" >&2; exit 1; }
}
