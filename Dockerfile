# The ssebench image: the harness, the mock server, the link emulator, merge_shards and the
# recordings, installed in /opt/ssebench (CMakeLists.txt, "The runtime layout"). docs/k8s.md runs
# it on Kubernetes. Build from the repository root:
#   docker build --build-arg SSEBENCH_COMMIT=$(git rev-parse --short=12 HEAD) -t ssebench:latest .
# The packages of both stages are the lists of scripts/lib/deps.sh, installed by its
# ssebench_require, as scripts/test and scripts/bench install them: this file names no package.
# (bash -c rather than SHELL, which podman's default OCI format ignores.)
FROM debian:12 AS build
COPY scripts/lib/deps.sh /tmp/deps.sh
RUN bash -c '. /tmp/deps.sh && ssebench_require "${ssebench_build_packages[@]}"' \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No .git in the build context (.dockerignore): the commit the runs name comes from here.
ARG SSEBENCH_COMMIT=
RUN cmake --preset release -DSSEBENCH_BUILD_TESTS=OFF "-DSSEBENCH_COMMIT=${SSEBENCH_COMMIT}" \
    && cmake --build build/release -j"$(nproc)" \
         --target ssebench-bench ssebench-mock-server ssebench-link \
    && cmake --install build/release --prefix /opt/ssebench

FROM debian:12
COPY scripts/lib/deps.sh /tmp/deps.sh
# The shared libraries of the installed binaries and python3 for merge_shards
# (tests/k8s/dockerfile_test.py checks the list against ldd).
RUN echo 'APT::Install-Recommends "false";' >/etc/apt/apt.conf.d/90ssebench \
    && bash -c '. /tmp/deps.sh && ssebench_require "${ssebench_runtime_packages[@]}"' \
    && rm -rf /var/lib/apt/lists/* /tmp/deps.sh /tmp/ssebench-apt.log
COPY --from=build /opt/ssebench /opt/ssebench
ENV PATH=/opt/ssebench/bin:$PATH
# Not root: the server raises its own open-file limit to the hard one (docs/k8s.md, "What to set").
RUN groupadd --system --gid 10001 ssebench \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent ssebench
USER 10001:10001
WORKDIR /tmp
CMD ["ssebench-bench", "--help"]
