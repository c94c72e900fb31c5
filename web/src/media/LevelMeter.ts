/** Measures a microphone's loudness (0..1) for the prejoin meter, a few times a second. */
export class LevelMeter {
  readonly #context: AudioContext;
  readonly #analyser: AnalyserNode;
  readonly #samples: Float32Array<ArrayBuffer>;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(track: MediaStreamTrack, onLevel: (level: number) => void) {
    this.#context = new AudioContext();
    this.#analyser = this.#context.createAnalyser();
    this.#analyser.fftSize = 512;
    this.#samples = new Float32Array(this.#analyser.fftSize);
    this.#context.createMediaStreamSource(new MediaStream([track])).connect(this.#analyser);
    this.#timer = setInterval(() => onLevel(this.#read()), 100);
  }

  #read(): number {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const s of this.#samples) sum += s * s;
    // RMS is small for speech; scale so that talking fills most of the bar.
    return Math.min(1, Math.sqrt(sum / this.#samples.length) * 4);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#context.close().catch(() => undefined);
  }
}
