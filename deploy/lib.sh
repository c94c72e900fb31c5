# shellcheck shell=bash
# Shared by deploy/dev, deploy/qa and deploy/prod (sourced, not run).
#
# Conventions: every precondition that fails stops the command with one line saying what is
# missing and how to provide it (`die`); `--dry-run` renders and validates everything offline and
# prints, rather than runs, what would touch a machine, a registry or a cluster (`act`).

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$DEPLOY_DIR/.." && pwd)"
DRY_RUN=0
# Rendered files and generated env files; kept after a dry run so they can be read.
WORK_DIR="${CONVENE_DEPLOY_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/convene-deploy.XXXXXX")}"
mkdir -p "$WORK_DIR"

die() {
  echo "deploy: error: $*" >&2
  exit 1
}
say() { echo "deploy: $*"; }

parse_common_args() {
  for arg in "$@"; do
    case "$arg" in
      --dry-run) DRY_RUN=1 ;;
      -h | --help)
        sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
      *) die "unknown argument $arg (try --help)" ;;
    esac
  done
}

# act CMD...: run it, or under --dry-run print it.
act() {
  if [ "$DRY_RUN" = 1 ]; then
    printf 'deploy: would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# A random secret of N bytes, hex.
gen_secret() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex "$1"; else node -e "process.stdout.write(require('node:crypto').randomBytes($1).toString('hex'))"; fi
}

require_env() {
  local name="$1" why="$2"
  [ -n "${!name:-}" ] || die "$name is not set: $why"
}

is_ipv4() { [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# The image tag: TAG, else the commit (with -dirty when the tree has changes).
image_tag() {
  if [ -n "${TAG:-}" ]; then
    echo "$TAG"
    return
  fi
  local sha
  sha=$(git -C "$ROOT_DIR" rev-parse --short=12 HEAD 2>/dev/null) || die "TAG is not set and this is not a git checkout: set TAG"
  if [ -n "$(git -C "$ROOT_DIR" status --porcelain 2>/dev/null)" ]; then sha="$sha-dirty"; fi
  echo "$sha"
}

# build_and_push REGISTRY TAG: both images (default target, and `files` for deck conversion).
build_and_push() {
  local registry="$1" tag="$2"
  [ "$DRY_RUN" = 1 ] || need docker "install Docker (engine and client) on this machine to build the image"
  act docker build -f "$ROOT_DIR/deploy/Dockerfile" -t "$registry/convene:$tag" "$ROOT_DIR"
  act docker build -f "$ROOT_DIR/deploy/Dockerfile" --target files -t "$registry/convene-files:$tag" "$ROOT_DIR"
  act docker push "$registry/convene:$tag"
  act docker push "$registry/convene-files:$tag"
}

# validate_compose ENV_FILE PROFILES FILE...: the compose project as `docker compose config` sees it.
validate_compose() {
  local env_file="$1" profiles="$2"
  shift 2
  local args=()
  for f in "$@"; do args+=(-f "$f"); done
  node "$DEPLOY_DIR/tools/validate-compose.mjs" --env-file "$env_file" --set "COMPOSE_PROFILES=$profiles" "${args[@]}" || die "compose validation failed (above)"
  if docker compose version >/dev/null 2>&1; then
    COMPOSE_PROFILES="$profiles" docker compose --project-directory "$DEPLOY_DIR/compose" --env-file "$env_file" "${args[@]}" config -q || die "docker compose config failed"
    say "docker compose config: ok"
  fi
}

# write_env FILE KEY=VALUE...: an env file for compose, values as given.
write_env() {
  local file="$1"
  shift
  : >"$file"
  chmod 600 "$file"
  for kv in "$@"; do printf '%s\n' "$kv" >>"$file"; done
}

# secret_from NAME FILE BYTES: $NAME from the environment, else the value saved in FILE by an
# earlier run (so a re-deploy keeps its tokens valid), else a new random one.
secret_from() {
  local name="$1" file="$2" bytes="$3" saved=""
  if [ -n "${!name:-}" ]; then
    echo "${!name}"
    return
  fi
  [ -f "$file" ] && saved=$(sed -n "s/^$name=//p" "$file" | head -n 1)
  if [ -n "$saved" ]; then echo "$saved"; else gen_secret "$bytes"; fi
}
