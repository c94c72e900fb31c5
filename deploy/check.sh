#!/usr/bin/env bash
# Offline checks of deploy/: everything that can be verified without a Docker engine or a
# Kubernetes cluster. Run from anywhere: bash deploy/check.sh
#
#  1. Dockerfiles        dockerfile-utils lint (npm)
#  2. compose files      tools/validate-compose.mjs (compose spec schema, anchors, ${VAR}
#                        interpolation, profiles; required variables really required), and the
#                        dry runs of deploy/dev, deploy/qa and deploy/prod
#  3. Kubernetes         kubectl kustomize (kustomize v5) renders base and every overlay, then
#                        tools/validate-k8s.mjs checks each object against the Kubernetes OpenAPI
#                        schemas of the npm package kubernetes-models, strictly (unknown fields
#                        fail), plus Convene's invariants
#  4. Kamailio           kamailio -c on kamailio.cfg with each optional feature switched on
#  5. shell scripts      shellcheck
#  6. YAML               yamllint (relaxed)
#
# Tools: apt-get install kamailio shellcheck yamllint (kubectl from your
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

# dockerfile-utils, pinned, outside the repository. The Kubernetes and compose validators use
# the repository's devDependencies (npm ci first).
if [ ! -d "$CONVENE_DEPLOY_TOOLS/node_modules/dockerfile-utils" ]; then
  step "installing dockerfile-utils into $CONVENE_DEPLOY_TOOLS"
  mkdir -p "$CONVENE_DEPLOY_TOOLS"
  [ -f "$CONVENE_DEPLOY_TOOLS/package.json" ] || echo '{"name":"convene-deploy-tools","private":true}' > "$CONVENE_DEPLOY_TOOLS/package.json"
  npm install --prefix "$CONVENE_DEPLOY_TOOLS" --no-audit --no-fund --loglevel=error dockerfile-utils@0.16.3 || fail "npm install of the check tools"
fi

step "1. Dockerfiles"
node tools/lint-dockerfile.mjs Dockerfile kamailio/Dockerfile || fail "Dockerfile lint"

step "2. compose files and the deploy commands' dry runs"
# tools/validate-compose.mjs: the compose spec's schema, interpolation, profiles (no Docker needed).
for f in compose/docker-compose.yml compose/docker-compose.embedded.yml; do
  node tools/validate-compose.mjs --env-file compose/env.example -f "$f" || fail "$f does not render"
done
node tools/validate-compose.mjs --env-file compose/env.example -f compose/docker-compose.yml -f compose/docker-compose.sentinel.yml || fail "the Sentinel override does not render"
# Required variables must stop `up` with a message, not start with empty addresses.
if node tools/validate-compose.mjs --env-file /dev/null --set COMPOSE_PROFILES=core,media -f compose/docker-compose.yml >/dev/null; then
  fail "compose/docker-compose.yml renders without its required variables"
else
  echo "ok: compose/docker-compose.yml refuses to render without its required variables"
fi
CONVENE_HOST_IP=198.18.0.10 ./dev --dry-run >/dev/null || fail "deploy/dev --dry-run"
REGISTRY=registry.example.com/convene QA_CORE_SSH=qa-core QA_MEDIA_SSH=qa-media QA_CORE_IP=198.18.0.5 QA_MEDIA_IP=198.18.0.6 ./qa --dry-run >/dev/null || fail "deploy/qa --dry-run"
if have kubectl; then
  REGISTRY=registry.example.com/convene PUBLIC_HOST=convene.example.com TLS_ISSUER=letsencrypt ./prod --dry-run >/dev/null || fail "deploy/prod --dry-run"
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
  if shellcheck -s sh kamailio/sync-dispatcher.sh kamailio/entrypoint.sh && shellcheck -x -P SCRIPTDIR check.sh dev qa prod lib.sh; then
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
