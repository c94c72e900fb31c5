#!/usr/bin/env bash
# Offline checks of deploy/: everything that can be verified without a Docker engine or a
# Kubernetes cluster. Run from anywhere: bash deploy/check.sh
#
#  1. Dockerfiles        dockerfile-utils lint (npm)
#  2. compose files      docker-compose config (Debian's docker-compose 1.29): schema, YAML
#                        anchors, ${VAR} interpolation, required variables really required
#  3. Kubernetes         kubectl kustomize (kustomize v5) renders base and every overlay, then
#                        tools/validate-k8s.mjs checks each object against the Kubernetes OpenAPI
#                        schemas of the npm package kubernetes-models, plus Convene's invariants
#  4. Kamailio           kamailio -c on kamailio.cfg with each optional feature switched on
#  5. shell scripts      shellcheck
#  6. YAML               yamllint (relaxed)
#
# Tools: apt-get install docker-compose kamailio shellcheck yamllint (kubectl from your
# Kubernetes packages); npm packages go to $CONVENE_DEPLOY_TOOLS (default
# /tmp/convene-deploy-tools), never into the repository. A missing tool skips its step with a
# notice; any failed check makes the script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
export CONVENE_DEPLOY_TOOLS="${CONVENE_DEPLOY_TOOLS:-/tmp/convene-deploy-tools}"
failures=0
skipped=()
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
have() { command -v "$1" >/dev/null 2>&1 || { skipped+=("$1"); echo "skip: $1 not installed"; return 1; }; }

# npm tools, pinned, outside the repository.
if [ ! -d "$CONVENE_DEPLOY_TOOLS/node_modules/kubernetes-models" ] || [ ! -d "$CONVENE_DEPLOY_TOOLS/node_modules/dockerfile-utils" ]; then
  step "installing kubernetes-models, yaml, dockerfile-utils into $CONVENE_DEPLOY_TOOLS"
  mkdir -p "$CONVENE_DEPLOY_TOOLS"
  [ -f "$CONVENE_DEPLOY_TOOLS/package.json" ] || echo '{"name":"convene-deploy-tools","private":true}' > "$CONVENE_DEPLOY_TOOLS/package.json"
  npm install --prefix "$CONVENE_DEPLOY_TOOLS" --no-audit --no-fund --loglevel=error \
    kubernetes-models@5.1.0 yaml@2 dockerfile-utils@0.16.3 || fail "npm install of the check tools"
fi

step "1. Dockerfiles"
node tools/lint-dockerfile.mjs Dockerfile kamailio/Dockerfile || fail "Dockerfile lint"

step "2. compose files"
if have docker-compose; then
  tmp=$(mktemp -d)
  cp compose/env.example "$tmp/.env"
  for f in compose/docker-compose.yml compose/docker-compose.embedded.yml; do
    if docker-compose --project-directory compose --env-file "$tmp/.env" -f "$f" config -q; then
      echo "ok: $f"
    else
      fail "$f does not render"
    fi
  done
  # The Sentinel variant is an override of docker-compose.yml, rendered together with it.
  if docker-compose --project-directory compose --env-file "$tmp/.env" -f compose/docker-compose.yml -f compose/docker-compose.sentinel.yml config -q; then
    echo "ok: compose/docker-compose.yml + compose/docker-compose.sentinel.yml"
  else
    fail "compose/docker-compose.sentinel.yml does not render over docker-compose.yml"
  fi
  # Required variables must stop `up` with a message, not start with empty addresses.
  : > "$tmp/empty.env"
  for f in compose/docker-compose.yml compose/docker-compose.embedded.yml; do
    if docker-compose --project-directory compose --env-file "$tmp/empty.env" -f "$f" config -q 2>/dev/null; then
      fail "$f renders without its required variables"
    else
      echo "ok: $f refuses to render without its required variables"
    fi
  done
  rm -rf "$tmp"
fi

step "3. Kubernetes (kustomize + schemas)"
if have kubectl; then
  for dir in k8s/base k8s/overlays/dev k8s/overlays/dev-ha k8s/overlays/qa k8s/overlays/prod; do
    out=$(mktemp)
    if kubectl kustomize "$dir" > "$out"; then
      echo "-- $dir ($(grep -c '^kind:' "$out") objects)"
      node tools/validate-k8s.mjs "$out" || fail "$dir"
    else
      fail "kubectl kustomize $dir"
    fi
    rm -f "$out"
  done
  # The optional files component, as an overlay would add it (prod + components/files).
  tmpk=$(mktemp -d)
  rel=$(realpath --relative-to="$tmpk" "$PWD/k8s")
  cat > "$tmpk/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: convene
resources: [$rel/overlays/prod]
components: [$rel/components/files]
images:
  - { name: convene-files, newName: registry.example.com/convene-files, newTag: 0.1.0 }
EOF
  if kubectl kustomize "$tmpk" > "$tmpk/out.yaml"; then
    echo "-- k8s/overlays/prod + components/files ($(grep -c '^kind:' "$tmpk/out.yaml") objects)"
    node tools/validate-k8s.mjs "$tmpk/out.yaml" || fail "prod + files component"
  else
    fail "kubectl kustomize prod + files component"
  fi
  rm -rf "$tmpk"
fi

step "4. Kamailio configuration"
if have kamailio; then
  list="DISPATCHER_LIST=\"$PWD/kamailio/dispatcher.list\""
  variants=(
    ""
    "-A WITH_CALL_LOAD"
    "-A WITH_TRUNK_ACL -A 'TRUNK_SUBNETS=\"10.0.0.0/8,192.168.0.0/16\"'"
    "-A LISTEN_ADDR=127.0.0.1 -A SIP_PORT=5080"
    "-A LISTEN_ADDR=127.0.0.1 -A ADVERTISED_ADDR=203.0.113.7"
    "-A WITH_DEBUG"
  )
  for v in "${variants[@]}"; do
    eval "args=($v)"
    # shellcheck disable=SC2154 # args is set by the eval above
    if kamailio -c -f kamailio/kamailio.cfg -A "$list" "${args[@]}" > /tmp/convene-kamailio-check.log 2>&1; then
      echo "ok: kamailio -c ${v:-(defaults)}"
    else
      grep -E 'ERROR|CRITICAL' /tmp/convene-kamailio-check.log | head -5
      fail "kamailio -c $v"
    fi
  done
fi

step "5. shell scripts"
if have shellcheck; then
  if shellcheck -s sh kamailio/sync-dispatcher.sh kamailio/entrypoint.sh && shellcheck check.sh; then
    echo "ok: shellcheck"
  else
    fail shellcheck
  fi
fi

step "6. YAML"
if have yamllint; then
  mapfile -t yamls < <(find . -name '*.yml' -o -name '*.yaml')
  if yamllint -d '{extends: relaxed, rules: {line-length: {max: 150}}}' "${yamls[@]}"; then
    echo "ok: yamllint (${#yamls[@]} files)"
  else
    fail yamllint
  fi
fi

echo
[ ${#skipped[@]} -eq 0 ] || echo "skipped (tool missing): ${skipped[*]}"
if [ "$failures" -eq 0 ]; then echo "deploy checks: all passed"; else echo "deploy checks: $failures failed"; exit 1; fi
