import { type CustomTransportStrategy, Server } from '@nestjs/microservices';

export const STAGE_TRANSPORT_ID = Symbol('rag-stage-runtime');

/** What the transport drives: a StageRunner (consume, retry, dead-letter, commit). */
export interface StartStop {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The stage runtime as a Nest microservice transport: `app.connectMicroservice({ strategy })` and
 * `app.startAllMicroservices()` start the stage's consumer; `app.close()` stops it (finish the
 * slice, commit, leave the group). Slices still go to the stage's StageHandler provider, not to
 * @EventPattern handlers: batch consumption is what Nest's own Kafka transport does not offer.
 */
export class StageTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = STAGE_TRANSPORT_ID;
  private listening = false;
  private closing?: Promise<void>;

  constructor(private readonly runner: StartStop) {
    super();
  }

  listen(callback: (err?: unknown) => void): void {
    this.listening = true;
    this.runner.start().then(
      () => {
        this._status$.next('listening');
        callback();
      },
      (err: unknown) => callback(err),
    );
  }

  /** Idempotent: Nest may close a hybrid app's microservice from more than one place. */
  close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.closing ??= this.runner.stop().then(() => this._status$.next('closed'));
    return this.closing;
  }

  on(): never {
    throw new Error('StageTransport emits no events; read the stage metrics and /readyz instead');
  }

  unwrap<T>(): T {
    return this.runner as T;
  }
}
