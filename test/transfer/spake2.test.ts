/**
 * SPAKE2 (RFC 9382, SPAKE2-P256-SHA256-HKDF-HMAC): the RFC's test vectors
 * for both roles, agreement and disagreement on the code, a replayed share,
 * and every malformed share refused before any key is derived.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { InvalidArgumentError, isNetkitError, TransferError } from '../../src/errors.js';
import { passwordScalar, Spake2 } from '../../src/transfer/secure/spake2.js';

const ORDER = p256.Point.Fn.ORDER;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const big = (h: string) => BigInt(`0x${h}`);
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/**
 * RFC 9382 Appendix B, every vector as printed (A and B identities given,
 * or empty; no AAD). K and TT are checked through Ke = first half of
 * SHA-256(TT): a side whose Ke matches built exactly the published TT.
 */
const VECTORS = [
  {
    idA: 'server',
    idB: 'client',
    w: '2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f',
    x: '43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729',
    y: 'dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be',
    pA:
      '04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1' +
      'a3e42c9b4e6be662766e1eeb4116988ede5f912c',
    pB:
      '0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852ab' +
      'fa8ed6e4a1155cf8f1543ceca528afb591a1e0b7',
    K:
      '0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a40' +
      '6d528501f907e04d97515fbe83db277b715d3325',
    tt:
      '06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4' +
      'd28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be66276' +
      '6e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1ea' +
      'f4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7410000000000' +
      '00000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa' +
      '6a406d528501f907e04d97515fbe83db277b715d332520000000000000002ee57912099d31560b3a44b1184b9b' +
      '4866e904c49d12ac5042c97dca461b1a5f',
    ke: '0e0672dc86f8e45565d338b0540abe69',
    ka: '15bdf72e2b35b5c9e5663168e960a91b',
    kcA: '00c12546835755c86d8c0db7851ae86f',
    kcB: 'a9fa3406c3b781b93d804485430ca27a',
    confirmA: '58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0',
    confirmB: 'd3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b',
  },
  {
    idA: '',
    idB: 'client',
    w: '0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae',
    x: '403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b',
    y: '903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065',
    pA:
      '04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962' +
      '498834078262caa5b441ecfa9d4a9485720e918a',
    pB:
      '04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d050186297' +
      '0c64565560cb5671f696048050ca66ca5f8cc7fc',
    K:
      '048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a571068' +
      '2767cff5361f7e819e53d8d3c3a2922e0d837aa6',
    tt:
      '00000000000000000600000000000000636c69656e74410000000000000004a897b769e681c62ac1c2357319a3' +
      'd363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a94' +
      '85720e918a410000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a6' +
      '1b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc4100000000000000048f83ec' +
      '9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5' +
      '361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f730589e579b0475a582c1608138ddf70' +
      '54b73b5381c7e883e2efae',
    ke: '642f05c473c2cd79909f9a841e2f30a7',
    ka: '0bf89b18180af97353ba198789c2b963',
    kcA: 'c6be376fc7cd1301fd0a13adf3e7bffd',
    kcB: 'b7243f4ae60440a49b3f8cab3c1fba07',
    confirmA: '47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b',
    confirmB: '3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df',
  },
  {
    idA: 'server',
    idB: '',
    w: '626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254',
    x: '07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633',
    y: 'b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16',
    pA:
      '04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9' +
      'a392d2ba309b48bfd7879aefd0f2cea6009763b0',
    pB:
      '040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e7' +
      '29c0732e1b528879c086f39ba0f31a9661bd34db',
    K:
      '0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a' +
      '7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe',
    tt:
      '06000000000000007365727665720000000000000000410000000000000004f88fb71c99bfffaea370966b7eb9' +
      '9cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2ce' +
      'a6009763b04100000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101' +
      'e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db41000000000000000445ee23' +
      '3b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b8' +
      '44bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5d' +
      'b30febe0497b14eae8c254',
    ke: '005184ff460da2ce59062c87733c299c',
    ka: '3521297d736598fc0a1127600efa1afb',
    kcA: 'f3da53604f0aeecea5a33be7bddf6edf',
    kcB: '9e3f86848736f159bd92b6e107ec6799',
    confirmA: 'bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2',
    confirmB: 'c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec',
  },
  {
    idA: '',
    idB: '',
    w: '7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca',
    x: '8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473',
    y: 'd7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53',
    pA:
      '04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de295' +
      '0ab8120b79a5ef1ea4c9f44bc98f585634b46d66',
    pB:
      '04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc31825003' +
      '0c6af045cb738bc81ba35b043c3dcb46adf6f58d',
    K:
      '041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3' +
      'e85a7c709b7ea73ee97986ce3d1438e135543772',
    tt:
      '00000000000000000000000000000000410000000000000004a65b367a3f613cf9f0654b1b28a1e3a8a4038795' +
      '6c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d6641' +
      '0000000000000004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b6' +
      '4692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d4100000000000000041a3c03d51b452537ca' +
      '2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee979' +
      '86ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb4911' +
      '3063d70cca',
    ke: 'fc6374762ba5cf11f4b2caa08b2cd1b9',
    ka: '907ae0e26e8d6234318d91583cd74c86',
    kcA: '5dbd2f477166b7fb6d61febbd77a5563',
    kcB: '7689b4654407a5faeffdc8f18359d8a3',
    confirmA: 'dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca',
    confirmB: 'd0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175',
  },
];

const authRefusal = (err: unknown) => {
  assert.ok(err instanceof TransferError, `expected TransferError, got ${err}`);
  assert.equal(err.code, 'NETKIT_TRANSFER_AUTH');
  return true;
};

describe('spake2: RFC 9382 Appendix B vectors', () => {
  for (const v of VECTORS) {
    const name = `A='${v.idA}', B='${v.idB}'`;

    it(`${name}: the published values are consistent (Ke || Ka = Hash(TT), KcA || KcB, both MACs)`, () => {
      // Guards the transcription above: a mistyped digit in TT, Ke or a MAC fails here, not in the code.
      const tt = Buffer.from(v.tt, 'hex');
      assert.equal(createHash('sha256').update(tt).digest('hex'), v.ke + v.ka);
      assert.ok(v.tt.includes(v.pA + '41'.padEnd(16, '0') + v.pB));
      assert.ok(v.tt.endsWith(`${'41'.padEnd(16, '0')}${v.K}${'20'.padEnd(16, '0')}${v.w}`));
      const kc = Buffer.from(
        hkdfSync('sha256', Buffer.from(v.ka, 'hex'), new Uint8Array(0), 'ConfirmationKeys', 32),
      );
      assert.equal(hex(kc), v.kcA + v.kcB);
      assert.equal(createHmac('sha256', Buffer.from(v.kcA, 'hex')).update(tt).digest('hex'), v.confirmA);
      assert.equal(createHmac('sha256', Buffer.from(v.kcB, 'hex')).update(tt).digest('hex'), v.confirmB);
    });

    it(`${name}: both roles reproduce pA, pB, Ke and both confirmation MACs`, () => {
      const w = big(v.w);
      const ids = { idA: utf8(v.idA), idB: utf8(v.idB) };
      const a = new Spake2('A', w, { ...ids, secret: big(v.x) });
      const b = new Spake2('B', w, { ...ids, secret: big(v.y) });
      assert.equal(hex(a.share), v.pA, 'pA');
      assert.equal(hex(b.share), v.pB, 'pB');
      const keysA = a.finish(b.share);
      const keysB = b.finish(a.share);
      assert.equal(hex(keysA.ke), v.ke, 'A: Ke (so TT, and K in it)');
      assert.equal(hex(keysB.ke), v.ke, 'B: Ke (so TT, and K in it)');
      assert.equal(hex(keysA.confirm), v.confirmA, 'A conf');
      assert.equal(hex(keysB.confirm), v.confirmB, 'B conf');
      assert.equal(keysA.verify(Buffer.from(v.confirmB, 'hex')), true, 'A verifies B conf');
      assert.equal(keysB.verify(Buffer.from(v.confirmA, 'hex')), true, 'B verifies A conf');
      // Each side refuses its own MAC reflected back: the two directions use different keys.
      assert.equal(keysA.verify(keysA.confirm), false);
      assert.equal(keysB.verify(keysB.confirm), false);
    });
  }
});

describe('spake2: exchanges', () => {
  function exchange(codeA: string, codeB: string, options: { aadA?: Uint8Array; aadB?: Uint8Array } = {}) {
    const a = new Spake2('A', passwordScalar(codeA), { aad: options.aadA });
    const b = new Spake2('B', passwordScalar(codeB), { aad: options.aadB });
    return { a, b, keysA: a.finish(b.share), keysB: b.finish(a.share) };
  }

  it('the same code: both sides derive the same Ke and verify each other', () => {
    const { a, b, keysA, keysB } = exchange('7-crossbow-lantern', '7-crossbow-lantern');
    assert.equal(a.share.length, 65);
    assert.equal(a.share[0], 0x04);
    assert.notEqual(hex(a.share), hex(b.share));
    assert.equal(keysA.ke.length, 16);
    assert.equal(keysA.confirm.length, 32);
    assert.equal(hex(keysA.ke), hex(keysB.ke));
    assert.equal(keysA.verify(keysB.confirm), true);
    assert.equal(keysB.verify(keysA.confirm), true);
  });

  it('different codes: Ke differs and neither side verifies the other', () => {
    const { keysA, keysB } = exchange('7-crossbow-lantern', '7-crossbow-lanterns');
    assert.notEqual(hex(keysA.ke), hex(keysB.ke));
    assert.equal(keysA.verify(keysB.confirm), false);
    assert.equal(keysB.verify(keysA.confirm), false);
  });

  it('different AAD: Ke agrees (AAD only feeds the confirmation keys) but confirmation fails', () => {
    const { keysA, keysB } = exchange('code', 'code', { aadA: utf8('v1'), aadB: utf8('v2') });
    assert.equal(hex(keysA.ke), hex(keysB.ke));
    assert.equal(keysA.verify(keysB.confirm), false);
    assert.equal(keysB.verify(keysA.confirm), false);
  });

  it('a replayed share: a new B given an old session share and confirmation does not verify it', () => {
    const old = exchange('7-crossbow-lantern', '7-crossbow-lantern');
    assert.equal(old.keysB.verify(old.keysA.confirm), true);
    // An attacker who recorded pA and cA replays them to a fresh B (new random y).
    const fresh = new Spake2('B', passwordScalar('7-crossbow-lantern'));
    const keys = fresh.finish(old.a.share);
    assert.equal(keys.verify(old.keysA.confirm), false);
    assert.notEqual(hex(keys.ke), hex(old.keysB.ke));
  });

  it('verify refuses confirmations of the wrong length or with one bit changed', () => {
    const { keysA, keysB } = exchange('code', 'code');
    assert.equal(keysA.verify(keysB.confirm.subarray(0, 31)), false);
    assert.equal(keysA.verify(Buffer.concat([keysB.confirm, Buffer.alloc(1)])), false);
    assert.equal(keysA.verify(new Uint8Array(0)), false);
    const flipped = Buffer.from(keysB.confirm);
    flipped[31]! ^= 1;
    assert.equal(keysA.verify(flipped), false);
  });
});

describe('spake2: invalid peer shares are NETKIT_TRANSFER_AUTH', () => {
  const w = passwordScalar('code');
  const valid = Buffer.from(VECTORS[0]!.pB, 'hex');
  const offCurve = Buffer.from(valid);
  offCurve[64]! ^= 0x01; // the last byte of y: the point leaves the curve
  const wN = p256.Point.fromHex('03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49')
    .multiply(w)
    .toBytes(false);
  const table: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['the identity (single 0x00)', new Uint8Array([0x00])],
    ['64 bytes (one short)', valid.subarray(0, 64)],
    ['66 bytes (one extra)', Buffer.concat([valid, Buffer.alloc(1)])],
    ['compressed (33 bytes)', p256.Point.fromBytes(valid).toBytes(true)],
    ['y coordinate with a flipped bit (not on the curve)', offCurve],
    ['prefix 0x05', Buffer.concat([Buffer.from([0x05]), valid.subarray(1)])],
    ['prefix 0x02 on 65 bytes', Buffer.concat([Buffer.from([0x02]), valid.subarray(1)])],
    ['65 zero bytes', new Uint8Array(65)],
    ['0x04 with x = y = 0', Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64)])],
    ['x beyond the field prime', Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64, 0xff)])],
    ['w*N, which makes K the identity', wN],
  ];
  for (const [name, share] of table) {
    it(name, () => {
      const a = new Spake2('A', w);
      assert.throws(() => a.finish(share), authRefusal);
    });
  }

  it('the valid share of the table is accepted (the refusals above are about the bytes)', () => {
    assert.doesNotThrow(() => new Spake2('A', w).finish(valid));
  });

  it('finish is once only: a second call is NETKIT_INVALID_ARGUMENT, even after a refused share', () => {
    const a = new Spake2('A', w);
    assert.throws(() => a.finish(new Uint8Array([0])), authRefusal);
    assert.throws(
      () => a.finish(valid),
      (err) => isNetkitError(err, 'NETKIT_INVALID_ARGUMENT'),
    );
  });
});

describe('spake2: construction', () => {
  it('rejects a role, w or secret out of range, naming the argument', () => {
    const cases: [() => unknown, string][] = [
      [() => new Spake2('C' as 'A', 1n), 'role'],
      [() => new Spake2('A', 0n), 'w'],
      [() => new Spake2('A', ORDER), 'w'],
      [() => new Spake2('A', 5 as unknown as bigint), 'w'],
      [() => new Spake2('A', 1n, { secret: 0n }), 'secret'],
      [() => new Spake2('B', 1n, { secret: ORDER }), 'secret'],
      [() => new Spake2('B', 1n, { idA: 'server' as unknown as Uint8Array }), 'idA'],
    ];
    for (const [make, option] of cases) {
      assert.throws(make, (err) => err instanceof InvalidArgumentError && err.option === option, option);
    }
  });
});

describe('spake2: passwordScalar', () => {
  it('is HKDF-SHA256(NFC code, "netkit-spake2-p256/1", "w", 48 bytes) mod n', () => {
    const okm = Buffer.from(hkdfSync('sha256', utf8('7-crossbow-lantern'), 'netkit-spake2-p256/1', 'w', 48));
    assert.equal(passwordScalar('7-crossbow-lantern'), big(okm.toString('hex')) % ORDER);
  });

  it('is deterministic and differs between codes', () => {
    assert.equal(passwordScalar('4-purple-sausage'), passwordScalar('4-purple-sausage'));
    assert.notEqual(passwordScalar('4-purple-sausage'), passwordScalar('4-purple-sausagE'));
    assert.notEqual(passwordScalar(''), passwordScalar(' '));
  });

  it('normalises to NFC: composed and decomposed spellings are one code', () => {
    const composed = 'caf\u00e9-\u00c5ngstr\u00f6m';
    const decomposed = 'cafe\u0301-A\u030angstro\u0308m';
    assert.notEqual(composed, decomposed);
    assert.equal(passwordScalar(composed), passwordScalar(decomposed));
  });

  it('is in [0, n)', () => {
    for (let i = 0; i < 200; i++) {
      const w = passwordScalar(`code-${i}`);
      assert.ok(w >= 0n && w < ORDER, `code-${i}`);
    }
  });
});
