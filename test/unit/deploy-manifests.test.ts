// The container image (Dockerfile) and the Kubernetes manifests (deploy/k8s/) agree with each
// other and with makima: the files are parsed (a real YAML parser; the Dockerfile line by line)
// and cross-checked. Docker and a cluster are not needed.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {CONFIG_KEYS, keySpec} from '../../src/lib/config/keys.js'
import {envOf, execForm, last, parseDockerfile, type Stage} from '../support/dockerfile.js'
import {projectRoot} from '../support/env.js'

const K8S = join(projectRoot, 'deploy', 'k8s')
const read = (...p: string[]) => readFileSync(join(projectRoot, ...p), 'utf8')
const yaml = (file: string) => parse(readFileSync(join(K8S, file), 'utf8'))

const pkg = JSON.parse(read('package.json'))
const dockerfile = parseDockerfile(read('Dockerfile'))
const runtime: Stage = dockerfile.stages.at(-1)!
const statefulSet = yaml('statefulset.yaml')
const secret = yaml('secret.yaml')
const configMap = yaml('configmap.yaml')
const hpa = yaml('hpa.yaml')
const pdb = yaml('pdb.yaml')
const service = yaml('service.yaml')
const pod = statefulSet.spec.template.spec
const container = pod.containers[0]
const env = (name: string) => (container.env as any[]).find((e) => e.name === name)

/** The words of every `apt-get install` in a stage's RUN instructions. */
function aptInstalled(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'RUN')
    .flatMap((i) => i.args.split(/&&|;/))
    .filter((cmd) => /\bapt-get install\b/.test(cmd))
    .flatMap((cmd) =>
      cmd
        .trim()
        .split(' ')
        .slice(2)
        .filter((w) => !w.startsWith('-')),
    )
}

describe('Dockerfile', () => {
  it('builds on Node 24 LTS (slim) in every stage, a version package.json engines supports; the runtime installs git', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of dockerfile.stages) expect(stage.image).toMatch(/^node:24(\.\d+)*(-slim)?(@sha256:[0-9a-f]+)?$/)
    expect(pkg.engines.node.split('||').map((range: string) => range.trim())).toContain('^24')
    expect(aptInstalled(runtime)).toContain('git')
  })

  it("installs exactly the Claude Code version of package.json's devDependency", () => {
    const pinned = pkg.devDependencies['@anthropic-ai/claude-code']
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/)
    const installs = runtime.instructions.filter((i) => i.keyword === 'RUN').flatMap((i) => [...i.args.matchAll(/npm install -g [^&;]*?"?@anthropic-ai\/claude-code@([^"\s]+)"?/g)].map((m) => m[1]))
    expect(installs).toEqual([pinned])
  })

  it('copies everything the package publishes into the runtime image, and makima is on PATH', () => {
    const copied = runtime.instructions
      .filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(' ').slice(1, -1))
      .map((src) => src.replace(/^\/src\//, ''))
    for (const needed of [...pkg.files, 'package.json', 'node_modules']) expect(copied).toContain(needed)
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
    expect(runs.some((r) => /ln -s \S*\/bin\/run\.js \/usr\/local\/bin\/makima\b/.test(r))).toBe(true)
  })

  it('keeps what the build stage copies out of .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
    const sources = dockerfile.stages[0]!.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1))
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']))
    for (const src of sources) expect(ignored, `${src} is in .dockerignore`).not.toContain(src)
  })

  it('runs as a numeric non-root user with MAKIMA_HOME on a volume, `makima daemon` by default', () => {
    expect(last(runtime, 'USER')?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/)
    const home = envOf(runtime).get('MAKIMA_HOME')
    expect(home).toMatch(/^\//)
    expect(execForm(last(runtime, 'VOLUME')!.args)).toContain(home)
    const argv = [...execForm(last(runtime, 'ENTRYPOINT')!.args), ...execForm(last(runtime, 'CMD')!.args)]
    expect(argv.slice(argv.indexOf('makima'))).toEqual(['makima', 'daemon'])
  })
})

describe('deploy/k8s', () => {
  it('runs the image the Dockerfile documents building, as `makima daemon`', () => {
    const built = dockerfile.comments.map((c) => /docker build -t (\S+) \.$/.exec(c)?.[1]).find(Boolean)
    expect(built).toBeDefined()
    expect(container.image).toBe(built)
    expect(yaml('kustomization.yaml').images.map((i: any) => i.name)).toContain(built!.split(':')[0])
    // Kubernetes: `command` replaces the ENTRYPOINT, `args` the CMD (which a `command` alone drops)
    const entrypoint = container.command ?? execForm(last(runtime, 'ENTRYPOINT')!.args)
    const args = container.args ?? (container.command ? [] : execForm(last(runtime, 'CMD')!.args))
    const argv: string[] = [...entrypoint, ...args]
    expect(argv).toContain('makima')
    expect(argv[argv.indexOf('makima') + 1]).toBe('daemon')
  })

  it('a StatefulSet of independent daemons, started in parallel, restarted whatever the exit code (42 after restartDaemon)', () => {
    expect(statefulSet.kind).toBe('StatefulSet')
    expect(statefulSet.spec.podManagementPolicy).toBe('Parallel')
    expect(statefulSet.spec.replicas).toBeUndefined() // the HPA's to set
    expect(pod.restartPolicy ?? 'Always').toBe('Always')
    // the selector must select the pod template, or the StatefulSet is rejected
    for (const [k, v] of Object.entries(statefulSet.spec.selector.matchLabels)) expect(statefulSet.spec.template.metadata.labels[k]).toBe(v)
    expect(service).toMatchObject({kind: 'Service', metadata: {name: statefulSet.spec.serviceName}, spec: {clusterIP: 'None'}})
    expect(service.spec.selector).toEqual(statefulSet.spec.selector.matchLabels)
  })

  it('the grace period covers the drain: drainGraceSecs + interruptGraceSecs, with room to spare', () => {
    const drain = keySpec('daemon.drainGraceSecs')!.default as number
    const interrupt = keySpec('process.interruptGraceSecs')!.default as number
    expect(drain).toBe(20)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drain + interrupt + 10)
  })

  it('an HPA (1-10) and a PodDisruptionBudget for the StatefulSet', () => {
    expect(hpa).toMatchObject({kind: 'HorizontalPodAutoscaler', spec: {minReplicas: 1, maxReplicas: 10}})
    expect(hpa.spec.scaleTargetRef).toEqual({apiVersion: statefulSet.apiVersion, kind: 'StatefulSet', name: statefulSet.metadata.name})
    expect(pdb.kind).toBe('PodDisruptionBudget')
    expect(pdb.spec.maxUnavailable).toBe(1)
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(statefulSet.spec.template.metadata.labels[k]).toBe(v)
  })

  it('takes the daemon API key from the Secret in secret.yaml', () => {
    expect(secret.kind).toBe('Secret')
    const ref = env('MAKIMA_DAEMON_SERVER_APIKEY')?.valueFrom?.secretKeyRef
    expect(ref).toBeDefined()
    expect(ref.name).toBe(secret.metadata.name)
    expect(Object.keys(secret.stringData)).toContain(ref.key)
    expect(ref.optional ?? false).toBe(false)
    // every Secret reference that is not optional names a key the Secret has
    for (const e of container.env as any[]) {
      const r = e.valueFrom?.secretKeyRef
      if (r && !r.optional) expect([r.name, Object.keys(secret.stringData).includes(r.key)]).toEqual([secret.metadata.name, true])
    }
  })

  it('mounts a volume of its own per pod (volumeClaimTemplates) at MAKIMA_HOME, the same path as in the image', () => {
    const home = env('MAKIMA_HOME')?.value
    expect(home).toBe(envOf(runtime).get('MAKIMA_HOME'))
    const mount = (container.volumeMounts as any[]).find((m) => m.mountPath === home)
    expect(mount).toBeDefined()
    const template = (statefulSet.spec.volumeClaimTemplates as any[]).find((t) => t.metadata.name === mount.name)
    expect(template?.spec.accessModes).toEqual(['ReadWriteOnce'])
    expect((pod.volumes as any[] | undefined)?.some((v) => v.name === mount.name) ?? false).toBe(false) // not a shared volume
    expect(mount.readOnly ?? false).toBe(false)
    // HOME (Claude Code's sessions, which resumed tasks need) lives on the same volume
    expect(`${env('HOME')?.value}/`.startsWith(`${home}/`)).toBe(true)
  })

  it("runs as the image's user, with the volume writable for its group", () => {
    const [uid, gid] = last(runtime, 'USER')!.args.split(':').map(Number)
    const sc = pod.securityContext
    expect(sc).toMatchObject({runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid})
  })

  it('sets only configuration variables makima knows, from a ConfigMap that exists', () => {
    const known = new Set(CONFIG_KEYS.map((k) => k.env).filter(Boolean))
    const names = [...Object.keys(configMap.data), ...(container.env as any[]).map((e) => e.name)].filter((n) => n.startsWith('MAKIMA_DAEMON_'))
    expect(names).toContain('MAKIMA_DAEMON_SERVER_URL')
    for (const n of names) expect(known, `${n} is not a makima configuration variable`).toContain(n)
    const refs = (container.envFrom as any[]).map((e) => e.configMapRef?.name).filter(Boolean)
    expect(refs).toEqual([configMap.metadata.name])
  })

  it('probes /healthz (liveness, patient past the database budget) and /readyz on the named metrics port the image serves', () => {
    const port = (container.ports as any[]).find((p) => p.name === 'metrics')
    expect(port.containerPort).toBe(Number(envOf(runtime).get('MAKIMA_DAEMON_DAEMON_METRICSPORT')))
    expect(envOf(runtime).get('MAKIMA_DAEMON_DAEMON_METRICSHOST')).toBe('0.0.0.0')
    expect(container.livenessProbe.httpGet).toEqual({path: '/healthz', port: 'metrics'})
    expect(container.readinessProbe.httpGet).toEqual({path: '/readyz', port: 'metrics'})
    const live = container.livenessProbe
    const budget = keySpec('daemon.healthDbBudgetSecs')!.default as number
    expect(live.periodSeconds * live.failureThreshold).toBeGreaterThan(budget)
    expect(statefulSet.spec.template.metadata.annotations).toMatchObject({'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port.containerPort)})
    const monitor = yaml('servicemonitor.yaml')
    expect(monitor.spec.endpoints[0]).toMatchObject({port: 'metrics', path: '/metrics'})
    expect((service.spec.ports as any[]).find((p) => p.name === 'metrics')).toMatchObject({targetPort: 'metrics'})
  })

  it('kustomization.yaml lists every manifest in deploy/k8s but the optional ServiceMonitor, and nothing else', () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'servicemonitor.yaml')
    expect([...yaml('kustomization.yaml').resources].sort()).toEqual(files.sort())
    for (const f of files) expect(yaml(f).metadata.namespace, `${f} sets a namespace`).toBeUndefined()
  })
})
