import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type StartStop, StageTransport } from './stage-transport';

/** A stand-in for the StageRunner: records what the transport asked of it. */
class FakeRunner implements StartStop {
  readonly calls: string[] = [];
  constructor(private readonly startError?: Error) {}

  async start(): Promise<void> {
    this.calls.push('start');
    if (this.startError) throw this.startError;
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
  }
}

function listen(transport: StageTransport): Promise<unknown> {
  return new Promise((resolve) => transport.listen((err?: unknown) => resolve(err)));
}

describe('StageTransport', () => {
  it('starts the runner on listen and reports success once it has started', async () => {
    const runner = new FakeRunner();
    const transport = new StageTransport(runner);
    expect(await listen(transport)).toBeUndefined();
    expect(runner.calls).toEqual(['start']);
  });

  it('hands a failed start to the listen callback', async () => {
    const runner = new FakeRunner(new Error('broker unreachable'));
    const err = await listen(new StageTransport(runner));
    expect((err as Error).message).toBe('broker unreachable');
  });

  it('stops the runner once on close, however often Nest closes it', async () => {
    const runner = new FakeRunner();
    const transport = new StageTransport(runner);
    await listen(transport);
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    expect(runner.calls).toEqual(['start', 'stop']);
  });

  it('does not stop a runner it never started', async () => {
    const runner = new FakeRunner();
    await new StageTransport(runner).close();
    expect(runner.calls).toEqual([]);
  });

  it('is started by startAllMicroservices and stopped by app.close in a hybrid Nest app', async () => {
    const runner = new FakeRunner();
    @Module({ providers: [{ provide: StageTransport, useValue: new StageTransport(runner) }] })
    class StageAppModule {}
    const app = await NestFactory.create(StageAppModule, { logger: false });
    app.connectMicroservice({ strategy: app.get(StageTransport) });
    await app.init();
    expect(runner.calls).toEqual([]);
    await app.startAllMicroservices();
    expect(runner.calls).toEqual(['start']);
    await app.close();
    expect(runner.calls).toEqual(['start', 'stop']);
  });
});
