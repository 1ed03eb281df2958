"""The three networks of T2M's text-motion matching evaluator (Guo et al. 2022), as modules.

Our own code with the parameter names and shapes of the official modules
(EricGuo5513/text-to-motion `networks/modules.py`: `MovementConvEncoder`,
`TextEncoderBiGRUCo`, `MotionEncoderBiGRUCo`; the same file in MDM,
`data_loaders/humanml/networks/modules.py`), so the released
`t2m/text_mot_match/model/finest.tar` state dicts load with `strict=True`:

- movement encoder: HumanML3D vectors without the 4 foot contacts [B, T, 259] ->
  two Conv1d(kernel 4, stride 2, padding 1) with LeakyReLU(0.2) -> Linear: [B, T/4, 512];
- motion encoder: [B, T/4, 512] -> Linear -> BiGRU(1024) over the first `length // 4`
  steps -> the two final hidden states -> MLP (Linear, LayerNorm, LeakyReLU, Linear): [B, 512];
- text encoder: GloVe word vectors [B, L, 300] + Linear(POS one-hot [B, L, 15]) -> Linear ->
  BiGRU(512) over the first `length` tokens -> the same MLP head: [B, 512].

Both GRUs start from a learned hidden state `hidden` [2, 1, H]. Dropout (p = 0.2, as the
official) is inactive in eval mode, which is the only mode the evaluator is used in.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = ["BiGRUEncoder", "MovementEncoder"]


class MovementEncoder(nn.Module):
    """Official `MovementConvEncoder`: x [B, T, input_size] -> [B, T // 4, output_size].

    Keys: `main.0` / `main.3` (the convolutions), `out_net` (the linear layer).
    """

    def __init__(
        self, *, input_size: int = 259, hidden_size: int = 512, output_size: int = 512
    ) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv1d(input_size, hidden_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden_size, output_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
        )
        self.out_net = nn.Linear(output_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_net(self.main(x.transpose(1, 2)).transpose(1, 2))


class BiGRUEncoder(nn.Module):
    """Official `TextEncoderBiGRUCo` (with `pos_size`) / `MotionEncoderBiGRUCo` (without).

    forward(x [B, L, input_size], lengths [B] (steps to read, >= 1), pos [B, L, pos_size]
    or None) -> [B, output_size]. With `pos_size`, `pos_emb` maps the POS one-hot to
    `input_size` and is added to x first (the text encoder). Keys: `pos_emb` (text only),
    `input_emb`, `gru`, `output_net.0` / `.1` (LayerNorm) / `.3`, `hidden`.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int = 512,
        pos_size: int | None = None,
    ) -> None:
        super().__init__()
        if pos_size is not None:
            self.pos_emb = nn.Linear(pos_size, input_size)
        self.input_emb = nn.Linear(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
        self.output_net = nn.Sequential(
            nn.Linear(hidden_size * 2, hidden_size),
            nn.LayerNorm(hidden_size),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, output_size),
        )
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden_size))

    def forward(self, x: Tensor, lengths: Tensor, pos: Tensor | None = None) -> Tensor:
        if pos is not None:
            x = x + self.pos_emb(pos)
        packed = pack_padded_sequence(
            self.input_emb(x), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        # enforce_sorted=False: the GRU sorts by length inside and returns the final states in
        # the input order, which is what the official code gets by sorting the batch itself
        _, last = self.gru(packed, self.hidden.expand(-1, x.shape[0], -1).contiguous())
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))
