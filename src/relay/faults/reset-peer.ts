import { CountingStage, type Item, isSignal } from './stage.js';

/**
 * ResetPeerStage is Toxiproxy's `reset_peer`: once data (or the FIN)
 * reaches it, the connection is reset (RST both ways) `timeout` ms later,
 * and what arrives meanwhile is dropped. netkit's `bytes` lets that many
 * bytes pass first: the RST then follows the Nth byte, for a peer that
 * must see part of a message before the connection breaks.
 */
export class ResetPeerStage extends CountingStage {
  #triggered = false;

  push(item: Item): void {
    if (this.#triggered) {
      if (!isSignal(item)) this.ctx.dropped(item.length);
      return;
    }
    if (isSignal(item)) {
      if (item.kind === 'fin') {
        this.#trigger();
        return;
      }
      this.#triggered = true;
      this.emit(item);
      return;
    }
    const rest = this.passFirst(item, this.spec.attributes.bytes ?? 0);
    if (rest === undefined) return;
    this.ctx.dropped(rest.length);
    this.#trigger();
  }

  #trigger(): void {
    this.#triggered = true;
    const fire = () =>
      this.emit({
        kind: 'reset',
        reason: `fault ${this.spec.name}: reset_peer reset ${this.ctx.stream} after ${this.passed} bytes`,
      });
    const timeout = this.spec.attributes.timeout ?? 0;
    if (timeout > 0) {
      this.after(timeout, () => {
        this.ctx.sync();
        if (!this.gone) fire();
      });
    } else fire();
  }
}
