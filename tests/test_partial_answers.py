"""Plausible partial answers, exercise by exercise: the visible check either catches each one, naming its real
cause and no other, or it passes and then the hidden tests give full marks.

An answer that passes the visible test and then loses points to the hidden tests is the worst thing a check can
do to a student. So every answer below runs through the very code of the solution notebook's test cell: the
visible part as a student's session runs it (a failure is shown, not raised), then the hidden part as nbgrader
runs it (strict: a failure raises). Each answer cell is executed like a notebook cell, after the notebook's own
import cell and the solutions of its other exercises (a student who solved those).

For each exercise, ``CAUSES`` lists the specific diagnoses its checker can give. A caught answer must get its
own and none of the others: a diagnosis that names a cause the answer does not have sends a student to fix the
wrong thing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pytest

from course_lib.grading.feedback import progress
from course_lib.instructor.exercises import NotebookExercise, read_exercises, setup_cell
from grading_helpers import SOLUTIONS, course_notebooks, grade_id, is_prediction, is_solution, read


@dataclass(frozen=True)
class Partial:
    label: str
    code: str
    said: str | None = None  # the cause the visible check must name; None: the answer is right, full marks

    @property
    def correct(self) -> bool:
        return self.said is None


NOTEBOOKS = course_notebooks()


@functools.cache
def exercises(notebook: str) -> dict[str, NotebookExercise]:
    """{test cell grade id: exercise} of a solution notebook, read from its cells: the headings number the
    exercises (``## Exercise N (P points): ...``), the answer cells follow a heading and its test cell closes it."""
    return {exercise.test: exercise for exercise in read_exercises(SOLUTIONS / notebook / f"{notebook}.ipynb")
            if exercise.test}


# ---------------------------------------------------------------------------------------------- notebook 1
CROP = '''
class CropActualImage:
    def __call__(self, data):
        images, labels = [], []
        for name, image, label in zip(data["names"], data["images"], data["labels"]):
            {body}
            images.append(image[box])
            labels.append({label})
        data["images"], data["labels"] = images, labels
        return data
'''


def crop(body: str, label: str = "label[box]") -> str:
    return CROP.format(body=body.strip().replace("\n", "\n            "), label=label)


FIND = '''rows = np.flatnonzero(image.sum(axis=1) > 0)
cols = np.flatnonzero(image.sum(axis=0) > 0)
if rows.size == 0:
    raise ValueError(f"{name} is black everywhere")
'''
RESIZE = '''
class ResizeImage:
    def __init__(self, size):
        self.size = tuple(size)

    def __call__(self, data):
        data["images"] = np.stack([{image} for image in data["images"]]).astype(np.float32)
        data["labels"] = np.stack([{label} for label in data["labels"]]).astype(np.float32)
        return data
'''
GOOD_IMAGE = "resize(image, self.size, order=1, anti_aliasing=True, preserve_range=True)"
GOOD_LABEL = "resize(label, self.size, order=0, anti_aliasing=False, preserve_range=True)"
SHUFFLE = '''
class ShuffleData:
    def __init__(self, keys, seed=None):
        self.keys = list(keys)
        self.rng = np.random.default_rng(seed)

    def __call__(self, data):
        {body}
        return data
'''


def shuffle(body: str) -> str:
    return SHUFFLE.format(body=body.strip().replace("\n", "\n        "))


ONE_ORDER = '''order = self.rng.permutation(len(data[self.keys[0]]))
for key in self.keys:
    value = data[key]
    data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]'''
SHIFT = '''
class RandomShift:
    def __init__(self, max_shift, seed=None):
        self.max_shift = int(max_shift)
        self.rng = np.random.default_rng(seed)

    def __call__(self, data):
        def shift(array, dy, dx):
            {move}

        images, labels = [], []
        {draw_batch}
        for image, label in zip(data["images"], data["labels"]):
            {draw}
            images.append(shift(image, dy, dx))
            labels.append({label})
        data["images"] = np.stack(images){cast_images}
        data["labels"] = np.stack(labels).astype(data["labels"].dtype)
        return data
'''
MOVE = '''out = np.zeros_like(array)
h, w = array.shape
out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = array[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
return out'''
DRAW = "dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))"


def shift_answer(move: str = MOVE, draw: str = DRAW, draw_batch: str = "pass", label: str = "shift(label, dy, dx)",
                 cast_images: str = ".astype(data['images'].dtype)") -> str:
    return SHIFT.format(move=move.strip().replace("\n", "\n            "), draw=draw, draw_batch=draw_batch,
                        label=label, cast_images=cast_images)


# ---------------------------------------------------------------------------------------------- notebook 3
CELL_UPDATE = '''
def cell_update(cell, i, j, f, forget_bias=1.0, activation=torch.relu):
    return {body}
'''
CONVLSTM_STEP = '''
def convlstm_step(conv, x, state, forget_bias=1.0, activation=torch.relu):
    cell, hidden = state
    i, j, f, o = split_gates(conv(torch.cat({order}, dim=1)))
    new_cell = cell_update(cell, i, j, f, {passed_on})
    new_hidden = hidden_state(new_cell, o, {activation})
    return {returned}
'''


def step(order: str = "[x, hidden]", passed_on: str = "forget_bias=forget_bias, activation=activation",
         activation: str = "activation=activation", returned: str = "new_hidden, (new_cell, new_hidden)") -> str:
    return CONVLSTM_STEP.format(order=order, passed_on=passed_on, activation=activation, returned=returned)


# ---------------------------------------------------------------------------------------------- notebook 4
DICE = '''
EPS = 0.001


def dice(prediction, truth):
    {body}
'''


def dice_answer(body: str) -> str:
    return DICE.format(body=body.strip().replace("\n", "\n    "))


SCORE_LOSS = '''
def dice_score(prediction, truth):
    return {score}


def dice_loss(prediction, truth):
    return {loss}
'''
DECODER = '''
def decode_coarse_to_fine(stages, memories, handoffs):
    deepest = len(stages) - 1
    state = memories[deepest].zero_state(stages[deepest][1][0])
    for level in {levels}:
        if level != deepest:
            {handoff}
        for x in {ladder}:
            output, state = memories[level](x, state)
    return {returned}
'''
HANDOFF = "state = tuple(torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1))"


def decoder(levels: str = "range(deepest, -1, -1)", handoff: str = HANDOFF, ladder: str = "stages[level][1][::-1]",
            returned: str = "output") -> str:
    return DECODER.format(levels=levels, handoff=handoff, ladder=ladder, returned=returned)


PARTIALS: dict[tuple[str, str], list[Partial]] = {
    ("01_data_transforms", "crop-test"): [
        Partial("the lab's crop: slices stop one short", crop(FIND + "box = (slice(rows[0], rows[-1]), slice(cols[0], cols[-1]))"),
                "the lab's bug"),
        Partial("a crop by boolean mask", crop(FIND + "box = np.ix_(image.sum(axis=1) > 0, image.sum(axis=0) > 0)"),
                "including the ones inside the content"),
        Partial("rows cropped, columns not", crop(FIND + "box = (slice(rows[0], rows[-1] + 1), slice(None))"),
                "cropped the rows only"),
        Partial("rows and columns swapped", crop('''
rows = np.flatnonzero(image.sum(axis=0) > 0)
cols = np.flatnonzero(image.sum(axis=1) > 0)
if rows.size == 0:
    raise ValueError(f"{name} is black everywhere")
box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))'''), "swapped"),
        Partial("a threshold instead of 'not black'", crop('''
rows = np.flatnonzero(image.max(axis=1) > 0.01)
cols = np.flatnonzero(image.max(axis=0) > 0.01)
if rows.size == 0:
    raise ValueError(f"{name} is black everywhere")
box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))'''), "from the first to the last row and column"),
        Partial("the label left as it was", crop(FIND + "box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))",
                                                 label="label"), "label was not cropped"),
        Partial("no check for an all-black image (IndexError)", crop('''
rows = np.flatnonzero(image.sum(axis=1) > 0)
cols = np.flatnonzero(image.sum(axis=0) > 0)
box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))'''), "has no content"),
        Partial("an all-black image kept as it is", crop('''
rows = np.flatnonzero(image.sum(axis=1) > 0)
cols = np.flatnonzero(image.sum(axis=0) > 0)
box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)) if rows.size else (slice(None), slice(None))'''),
                "has no content"),
        Partial("a ValueError that does not say why", crop('''
rows = np.flatnonzero(image.sum(axis=1) > 0)
cols = np.flatnonzero(image.sum(axis=0) > 0)
if rows.size == 0:
    raise ValueError("nothing to crop")
box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))'''), "its message is not"),
        Partial("the library's crop under the exercise's name",
                "from course_lib.data.transforms import CropActualImage", "course_lib's own"),
        Partial("right, with np.argwhere", crop('''
found = np.argwhere(image != 0)
if found.size == 0:
    raise ValueError(f"{name}: the image is all black")
(top, left), (bottom, right) = found.min(axis=0), found.max(axis=0)
box = (slice(top, bottom + 1), slice(left, right + 1))''')),
    ],
    ("01_data_transforms", "resize-test"): [
        Partial("labels interpolated like images", RESIZE.format(image=GOOD_IMAGE, label=GOOD_IMAGE.replace("image", "label")),
                "strictly between 0 and 1"),
        Partial("labels with order=0 but anti-aliasing left on", RESIZE.format(
            image=GOOD_IMAGE, label="resize(label, self.size, order=0, preserve_range=True)"), "strictly between 0 and 1"),
        Partial("images without anti-aliasing", RESIZE.format(
            image="resize(image, self.size, order=1, anti_aliasing=False, preserve_range=True)", label=GOOD_LABEL),
                "anti-aliasing off"),
        Partial("labels thresholded after linear interpolation", RESIZE.format(
            image=GOOD_IMAGE, label="resize(label, self.size, order=1, anti_aliasing=False) > 0.5"),
                "pixels differ from the reference"),
        Partial("size read as (width, height)", RESIZE.format(
            image=GOOD_IMAGE.replace("self.size", "self.size[::-1]"), label=GOOD_LABEL.replace("self.size", "self.size[::-1]")),
                "has shape"),
        Partial("lists instead of stacked arrays", RESIZE.format(image=GOOD_IMAGE, label=GOOD_LABEL).replace(
            "np.stack([", "list([").replace("]).astype(np.float32)", "])"), "stack the resized arrays"),
        Partial("right without astype (skimage keeps float32)",
                RESIZE.format(image=GOOD_IMAGE, label=GOOD_LABEL).replace(".astype(np.float32)", "")),
        Partial("labels cast to uint8", RESIZE.format(image=GOOD_IMAGE, label=GOOD_LABEL).replace(
            'data["labels"] = np.stack([resize(label', 'data["labels"] = np.stack([resize(label.astype(np.uint8)').replace(
            "for label in data[\"labels\"]]).astype(np.float32)", "for label in data[\"labels\"]]).astype(np.uint8)"),
                "astype(np.float32)"),
        Partial("the library's resize under the exercise's name",
                "from course_lib.data.transforms import ResizeImage", "course_lib's own"),
        Partial("right, one array at a time", RESIZE.format(
            image="resize(np.asarray(image, np.float64), self.size, order=1, anti_aliasing=True, preserve_range=True)",
            label="resize(np.asarray(label), self.size, order=0, anti_aliasing=False, preserve_range=True)")),
    ],
    ("01_data_transforms", "shuffle-test"): [
        Partial("one permutation per key", shuffle('''
for key in self.keys:
    order = self.rng.permutation(len(data[key]))
    value = data[key]
    data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]'''), "ONE permutation"),
        Partial("a new generator with the seed in every call", shuffle(ONE_ORDER.replace("self.rng.", "np.random.default_rng(0).")),
                "once in __init__"),
        Partial("numpy's global generator", shuffle(ONE_ORDER.replace("self.rng.", "np.random.")), "not from np.random"),
        Partial("names left in place", shuffle('''
order = self.rng.permutation(len(data[self.keys[0]]))
for key in self.keys:
    if isinstance(data[key], np.ndarray):
        data[key] = data[key][order]'''), "names were not reordered"),
        Partial("names turned into an array", shuffle('''
order = self.rng.permutation(len(data[self.keys[0]]))
for key in self.keys:
    data[key] = np.asarray(data[key])[order]'''), "keep lists as lists"),
        Partial("every key shuffled, asked for or not", shuffle(ONE_ORDER.replace("for key in self.keys:", "for key in data:")),
                "raised IndexError"),
        Partial("every list key shuffled, asked for or not", shuffle(ONE_ORDER.replace(
            "for key in self.keys:", "for key in [k for k in data if not isinstance(data[k], str)]:")),
                "not in keys but was reordered"),
        Partial("the library's shuffle under the exercise's name",
                "from course_lib.data.transforms import ShuffleData", "course_lib's own"),
        Partial("right, with rng.shuffle on an index", shuffle('''
order = np.arange(len(data[self.keys[0]]))
self.rng.shuffle(order)
for key in self.keys:
    value = data[key]
    data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]''')),
    ],
    ("01_data_transforms", "shift-test"): [
        Partial("np.roll", shift_answer(move="return np.roll(array, (dy, dx), axis=(0, 1))"), "np.roll"),
        Partial("one offset for the whole batch", shift_answer(draw="pass", draw_batch=DRAW), "not one per batch"),
        Partial("the range's end left out",
                shift_answer(draw=DRAW.replace("self.max_shift + 1", "max(self.max_shift, 1)")), "inclusive"),
        Partial("the label not moved", shift_answer(label="label"), "same (dy, dx)"),
        Partial("dy drawn, dx copied from it", shift_answer(
            draw="dy = dx = int(self.rng.integers(-self.max_shift, self.max_shift + 1))"), "independently"),
        Partial("numpy's global generator", shift_answer(draw=DRAW.replace("self.rng.integers", "np.random.randint")),
                "not np.random"),
        Partial("square images only", shift_answer(move=MOVE.replace("w + min(dx, 0)", "h + min(dx, 0)").replace(
            "w + min(-dx, 0)", "h + min(-dx, 0)")), "is not the input moved by one offset"),
        Partial("images come back as float64", shift_answer(cast_images=".astype(np.float64)"), "changed dtype"),
        Partial("the library's shift under the exercise's name",
                "from course_lib.data.transforms import RandomShift", "course_lib's own"),
        Partial("right, with np.pad", shift_answer(move='''
h, w = array.shape
padded = np.pad(array, ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))))
return padded[max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]''')),
    ],
    ("02_skip_connections", "concat-fusion-test"): [
        Partial("skip first", "def concat_fusion(decoder, skip):\n    return torch.cat([skip, decoder], dim=1)",
                "decoder's features first"),
        Partial("along the batch axis", "def concat_fusion(decoder, skip):\n    return torch.cat([decoder, skip], dim=0)",
                "batch axis"),
        Partial("no shape check (torch.cat's own error)",
                "def concat_fusion(decoder, skip):\n    return torch.cat([decoder, skip], dim=1)", "cannot be fused"),
        Partial("the width's axis", '''
def concat_fusion(decoder, skip):
    if decoder.shape[0] != skip.shape[0] or decoder.shape[2:] != skip.shape[2:]:
        raise ValueError(f"{decoder.shape} and {skip.shape}")
    return torch.cat([decoder, skip], dim=-1)''', "Concatenate along the channel axis"),
        Partial("equal channel counts required", '''
def concat_fusion(decoder, skip):
    if decoder.shape != skip.shape:
        raise ValueError(f"{decoder.shape} and {skip.shape}")
    return torch.cat([decoder, skip], dim=1)''', "raised ValueError"),
        Partial("the library's fusion under the exercise's name", '''
from course_lib.nn import ConcatFusion
concat_fusion = ConcatFusion()''', "course_lib's own"),
        Partial("right, with torch.concat and one check", '''
def concat_fusion(decoder, skip):
    if (decoder.shape[0], *decoder.shape[2:]) != (skip.shape[0], *skip.shape[2:]):
        raise ValueError(f"cannot concatenate {tuple(decoder.shape)} and {tuple(skip.shape)}")
    return torch.concat((decoder, skip), 1)'''),
    ],
    ("02_skip_connections", "sum-fusion-test"): [
        Partial("broadcasting sum", "def sum_fusion(decoder, skip):\n    return decoder + skip", "returned a result"),
        Partial("only the channels compared", '''
def sum_fusion(decoder, skip):
    if decoder.shape[1] != skip.shape[1]:
        raise ValueError(f"{decoder.shape} and {skip.shape}")
    return decoder + skip''', "returned a result"),
        Partial("concatenation instead", '''
def sum_fusion(decoder, skip):
    if decoder.shape != skip.shape:
        raise ValueError(f"{decoder.shape} and {skip.shape}")
    return torch.cat([decoder, skip], dim=1)''', "That is concatenation"),
        Partial("a difference instead", '''
def sum_fusion(decoder, skip):
    if decoder.shape != skip.shape:
        raise ValueError(f"{decoder.shape} and {skip.shape}")
    return decoder - skip''', "Add the two tensors"),
        Partial("right, with torch.add", '''
def sum_fusion(decoder, skip):
    if tuple(decoder.shape) != tuple(skip.shape):
        raise ValueError(f"cannot add {tuple(decoder.shape)} and {tuple(skip.shape)}")
    return torch.add(decoder, skip)'''),
    ],
    ("03_convlstm", "split-gates-test"): [
        Partial("the groups in the order i, f, j, o", '''
def split_gates(features):
    if features.shape[1] % 4:
        raise ValueError("not a multiple of 4")
    i, j, f, o = torch.chunk(features, 4, dim=1)
    return i, f, j, o''', "holds channels of"),
        Partial("no check of the channel count", '''
def split_gates(features):
    return tuple(torch.tensor_split(features, 4, dim=1))''', "did not complain"),
        Partial("an assert instead of a ValueError", '''
def split_gates(features):
    assert features.shape[1] % 4 == 0, "not a multiple of 4"
    return tuple(torch.chunk(features, 4, dim=1))''', "raise ValueError saying"),
        Partial("three channels per group, hard-coded", '''
def split_gates(features):
    if features.shape[1] % 4:
        raise ValueError("not a multiple of 4")
    return features[:, 0:3], features[:, 3:6], features[:, 6:9], features[:, 9:12]''', "has shape"),
        Partial("right, a list from torch.split", '''
def split_gates(features):
    channels = features.shape[1]
    if channels % 4 != 0:
        raise ValueError(f"{channels} channels is not a multiple of 4")
    return list(torch.split(features, channels // 4, dim=1))'''),
    ],
    ("03_convlstm", "cell-update-test"): [
        Partial("ReLU hard-coded", CELL_UPDATE.format(
            body="cell * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * torch.relu(j)"), "activation=torch.relu (apply"),
        Partial("forget bias 1.0 hard-coded", CELL_UPDATE.format(
            body="cell * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * activation(j)"), "a forget bias of 1"),
        Partial("ReLU and forget bias 1.0 both hard-coded", CELL_UPDATE.format(
            body="cell * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * torch.relu(j)"),
                "a forget bias of 1 (add the `forget_bias` argument to f before the sigmoid, not a fixed number) and "
                "activation=torch.relu (apply"),
        Partial("no forget bias", CELL_UPDATE.format(body="cell * torch.sigmoid(f) + torch.sigmoid(i) * activation(j)"),
                "a forget bias of 0"),
        Partial("input and forget gates swapped", CELL_UPDATE.format(
            body="cell * torch.sigmoid(i + forget_bias) + torch.sigmoid(f) * activation(j)"), "i and f are swapped"),
        Partial("right, in two lines", '''
def cell_update(cell, i, j, f, forget_bias=1.0, activation=torch.relu):
    keep = torch.sigmoid(f + forget_bias)
    return keep * cell + torch.sigmoid(i) * activation(j)'''),
    ],
    ("03_convlstm", "hidden-state-test"): [
        Partial("no activation", "def hidden_state(new_cell, o, activation=torch.relu):\n    return new_cell * torch.sigmoid(o)",
                "left out the activation"),
        Partial("no sigmoid", "def hidden_state(new_cell, o, activation=torch.relu):\n    return activation(new_cell) * o",
                "needs its sigmoid"),
        Partial("ReLU hard-coded",
                "def hidden_state(new_cell, o, activation=torch.relu):\n    return torch.relu(new_cell) * torch.sigmoid(o)",
                "activation=torch.relu (apply"),
        Partial("tanh hard-coded",
                "def hidden_state(new_cell, o, activation=torch.relu):\n    return torch.tanh(new_cell) * torch.sigmoid(o)",
                "activation=torch.tanh (apply"),
        Partial("right, with torch.mul",
                "def hidden_state(new_cell, o, activation=torch.relu):\n    return torch.mul(torch.sigmoid(o), activation(new_cell))"),
    ],
    ("03_convlstm", "convlstm-step-test"): [
        Partial("forget bias and activation not passed on", step(passed_on="", activation=""),
                "pass this step's `forget_bias` and `activation` on"),
        Partial("hidden state first in the concatenation", step(order="[hidden, x]"), "It matches cat([hidden, x])"),
        Partial("the state returned as (hidden, cell)", step(returned="new_hidden, (new_hidden, new_cell)"),
                "return it as (cell, hidden)"),
        Partial("the old hidden state returned in the state", step(returned="new_hidden, (new_cell, hidden)"),
                "the state's hidden differs"),
        Partial("the previous state ignored", step().replace("cell, hidden = state",
                                                             "cell, hidden = (torch.zeros_like(s) for s in state)"),
                "Expected: concatenate [x, hidden]"),
        Partial("right, all in one function", '''
def convlstm_step(conv, x, state, forget_bias=1.0, activation=torch.relu):
    cell, hidden = state
    i, j, f, o = torch.chunk(conv(torch.cat((x, hidden), 1)), 4, 1)
    cell = torch.sigmoid(f + forget_bias) * cell + torch.sigmoid(i) * activation(j)
    hidden = torch.sigmoid(o) * activation(cell)
    return hidden, (cell, hidden)'''),
    ],
    ("04_cfcm_training", "dice-test"): [
        Partial("averaged over the batch", dice_answer('''
axes = tuple(range(1, prediction.dim()))
return (2 * (prediction * truth).sum(dim=axes) / ((prediction ** 2 + truth ** 2).sum(dim=axes) + EPS)).mean()'''),
                "one value per sample"),
        Partial("summed over the channels only", dice_answer(
            "return 2 * (prediction * truth).sum(dim=1) / ((prediction ** 2 + truth ** 2).sum(dim=1) + EPS)"),
                "still has the axes"),
        Partial("axes (1, 2, 3) hard-coded", dice_answer(
            "return 2 * (prediction * truth).sum(dim=(1, 2, 3)) / ((prediction ** 2 + truth ** 2).sum(dim=(1, 2, 3)) + EPS)"),
                "raised IndexError"),
        Partial("no EPS", dice_answer('''
axes = tuple(range(1, prediction.dim()))
return 2 * (prediction * truth).sum(dim=axes) / (prediction ** 2 + truth ** 2).sum(dim=axes)'''), "without EPS"),
        Partial("no squares", dice_answer('''
axes = tuple(range(1, prediction.dim()))
return 2 * (prediction * truth).sum(dim=axes) / ((prediction + truth).sum(dim=axes) + EPS)'''), "squares both"),
        Partial("the 2 forgotten", dice_answer('''
axes = tuple(range(1, prediction.dim()))
return (prediction * truth).sum(dim=axes) / ((prediction ** 2 + truth ** 2).sum(dim=axes) + EPS)'''), "half the expected"),
        Partial("EPS added twice", dice_answer('''
axes = tuple(range(1, prediction.dim()))
return 2 * (prediction * truth).sum(dim=axes) / ((prediction ** 2).sum(dim=axes) + EPS + (truth ** 2).sum(dim=axes) + EPS)'''),
                "EPS is added twice"),
        Partial("the prediction detached", dice_answer('''
p = prediction.detach()
axes = tuple(range(1, p.dim()))
return 2 * (p * truth).sum(dim=axes) / ((p ** 2 + truth ** 2).sum(dim=axes) + EPS)'''), "without a gradient"),
        Partial("squeezed first (breaks a batch of one)", dice_answer('''
p, t = prediction.squeeze(), truth.squeeze()
axes = tuple(range(1, p.dim()))
return 2 * (p * t).sum(dim=axes) / ((p ** 2 + t ** 2).sum(dim=axes) + EPS)'''), "got shape"),
        Partial("the library's dice under the exercise's name",
                "EPS = 0.001\nfrom course_lib.losses import dice", "course_lib's own"),
        Partial("right, with flatten", dice_answer('''
p, t = prediction.flatten(1), truth.flatten(1)
return 2.0 * (p * t).sum(1) / ((p * p).sum(1) + (t * t).sum(1) + EPS)''')),
    ],
    ("04_cfcm_training", "score-loss-test"): [
        Partial("the score not averaged", SCORE_LOSS.format(score="dice(prediction, truth)",
                                                             loss="(1 - dice(prediction, truth)).mean()"), "Average over the batch"),
        Partial("the score summed", SCORE_LOSS.format(score="dice(prediction, truth).sum()",
                                                       loss="(1 - dice(prediction, truth)).mean()"), "sum over the batch"),
        Partial("the score is the loss", SCORE_LOSS.format(score="(1 - dice(prediction, truth)).mean()",
                                                            loss="(1 - dice(prediction, truth)).mean()"), "equals the loss"),
        Partial("the loss is -Dice", SCORE_LOSS.format(score="dice(prediction, truth).mean()",
                                                        loss="-dice(prediction, truth).mean()"), "-Dice"),
        Partial("the loss is the score", SCORE_LOSS.format(score="dice(prediction, truth).mean()",
                                                            loss="dice(prediction, truth).mean()"), "equals the score"),
        Partial("the loss detached", SCORE_LOSS.format(score="dice(prediction, truth).mean()",
                                                        loss="(1 - dice(prediction.detach(), truth)).mean()"),
                "without a gradient"),
        Partial("right, 1 - score", SCORE_LOSS.format(score="dice(prediction, truth).mean()",
                                                       loss="1 - dice(prediction, truth).mean()")),
    ],
    ("04_cfcm_training", "decoder-test"): [
        Partial("each ladder read first block first", decoder(ladder="stages[level][1]"), "REVERSE order"),
        Partial("cell and hidden swapped at the hand-off", decoder(
            handoff="hidden, cell = torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1)\n"
                    "            state = (cell, hidden)"), "swaps cell and hidden"),
        Partial("every level restarted from zeros", decoder(handoff="state = memories[level].zero_state(stages[level][1][0])"),
                "restarts every level from zeros"),
        Partial("the deepest level only", decoder(levels="[deepest]"), "deepest level's size"),
        Partial("the cell returned", decoder(returned="state[0]"), "last CELL state"),
        Partial("four levels hard-coded", decoder(levels="(3, 2, 1, 0)").replace(
            "deepest = len(stages) - 1", "deepest = 3"), "raised IndexError"),
        Partial("right, with unroll", '''
def decode_coarse_to_fine(stages, memories, handoffs):
    state = None
    for level in reversed(range(len(stages))):
        ladder = list(reversed(stages[level][1]))
        if state is None:
            state = memories[level].zero_state(ladder[0])
        else:
            cell, hidden = handoffs[level](torch.cat(state, 1)).chunk(2, 1)
            state = (cell, hidden)
        outputs, state = unroll(memories[level], ladder, state)
    return outputs[-1]'''),
    ],
}

# ---------------------------------------------------------------------------------------------- new exercises
MERGE = """
def merge_masks(left, right):
    left, right = np.asarray(left), np.asarray(right)
    {check}
    return {value}
"""
SAME_SHAPE = 'if left.shape != right.shape:\n        raise ValueError(f"{left.shape} and {right.shape} differ")'


def merge(value: str, check: str = SAME_SHAPE) -> str:
    return MERGE.format(value=value, check=check)


EPOCH = """
def epoch_batches(data, batch_size, keys, each_epoch=(), each_iteration=()):
    {copy}
    for transform in each_epoch:
        data = transform(data)
    n = len(data[keys[0]])
    for start in range(0, {stop}, batch_size):
        batch = {batch}
        for transform in each_iteration:
            {each}
        yield batch
"""


def epoch(copy: str = "data = copy.deepcopy(data)", stop: str = "n",
          batch: str = "{key: data[key][start:start + batch_size] for key in keys}",
          each: str = "batch = transform(batch)") -> str:
    return EPOCH.format(copy=copy, stop=stop, batch=batch, each=each)


RESNET = """
class ResNetBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.projection = {projection}

    def forward(self, x):
        a = torch.relu(x)
        shortcut = x if self.projection is None else self.projection({projected})
        return {out}
"""


def resnet(projection: str = "nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None",
           projected: str = "a", out: str = "self.conv2(torch.relu(self.conv1(a))) + shortcut") -> str:
    return RESNET.format(projection=projection, projected=projected, out=out)


SIZE = """
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    {check}
    return {value}
"""
FITS = 'if size + 2 * padding < span:\n        raise ValueError("the kernel does not fit")'


def size_answer(value: str, check: str = FITS) -> str:
    return SIZE.format(value=value, check=check)


FIELDS = """
def receptive_fields(layers):
    field, step, fields = 1, 1, []
    for kernel_size, stride, dilation in layers:
        {body}
        fields.append({pair})
    return fields
"""


def fields(body: str, pair: str = "(field, step)") -> str:
    return FIELDS.format(body=body.strip().replace("\n", "\n        "), pair=pair)


BOUNDARY = """
import torch.nn.functional as F
from course_lib.metrics import boundary


def boundary_f_score(prediction, truth, tolerance=1):
    found_p, found_t = boundary(prediction), boundary(truth)
    near = lambda b: F.max_pool2d(b.unsqueeze(1), {kernel}, stride=1, padding={padding})[:, 0]
    precision = (found_p * near(found_t)).sum(dim=(1, 2)) / {denominator_p}
    recall = (found_t * near(found_p)).sum(dim=(1, 2)) / {denominator_t}
    score = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    {tail}
"""
EMPTY_BOTH = ("both = (found_p.sum(dim=(1, 2)) == 0) & (found_t.sum(dim=(1, 2)) == 0)\n"
              "    return torch.where(both, torch.ones_like(score), score)")


def boundary_answer(kernel: str = "2 * tolerance + 1", padding: str = "tolerance",
                    denominator_p: str = "found_p.sum(dim=(1, 2)).clamp(min=1)",
                    denominator_t: str = "found_t.sum(dim=(1, 2)).clamp(min=1)", tail: str = EMPTY_BOTH) -> str:
    return BOUNDARY.format(kernel=kernel, padding=padding, denominator_p=denominator_p, denominator_t=denominator_t,
                           tail=tail)


UNROLL = """
def unroll(cell, inputs, state):
    {check}
    outputs = []
    for x in inputs:
        {step}
    return {result}
"""
EMPTY = 'if len(inputs) == 0:\n        raise ValueError("no inputs")'


def unroll_answer(step: str = "output, state = cell(x, state)\n        outputs.append(output)", check: str = EMPTY,
                  result: str = "outputs, state") -> str:
    return UNROLL.format(step=step, check=check, result=result)


STEP = """
def train_step(model, optimizer, images, labels):
    {body}
"""


def step_answer(body: str) -> str:
    return STEP.format(body=body.strip().replace("\n", "\n    "))


GOOD_STEP = """optimizer.zero_grad()
loss = losses.dice_loss(torch.sigmoid(model(images)), labels)
loss.backward()
optimizer.step()
return loss.detach()"""
VALIDATE = """
{decorator}
def validate(model, images, labels, batch_size=16, threshold=0.5):
    {eval_}
    scores = []
    for start in range(0, {stop}, batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        predicted = {predicted}
        scores.append(losses.dice(predicted, y))
    {train}
    return torch.cat(scores)
"""


def validate_answer(decorator: str = "@torch.no_grad()", eval_: str = "model.eval()", stop: str = "len(images)",
                    predicted: str = "(torch.sigmoid(model(x)) > threshold).float()", train: str = "model.train()") -> str:
    return VALIDATE.format(decorator=decorator, eval_=eval_, stop=stop, predicted=predicted, train=train)


CYCLE = """
import math


def one_cycle_lr(step, total_steps, peak, warmup_fraction=0.3):
    progress = min(max(step / {denominator}, 0.0), 1.0)
    start, end = {start}, {end}
    cosine = lambda a, b, t: b + (a - b) * 0.5 * (1 + math.cos(math.pi * t))
    if progress < warmup_fraction:
        return {warm}
    return cosine(peak, end, (progress - warmup_fraction) / (1 - warmup_fraction))
"""


def cycle(denominator: str = "max(total_steps - 1, 1)", start: str = "peak / 25", end: str = "peak / 1e4",
          warm: str = "cosine(start, peak, progress / warmup_fraction)") -> str:
    return CYCLE.format(denominator=denominator, start=start, end=end, warm=warm)


NEW = {
    ("01_data_transforms", "merge-test"): [
        Partial("the union, as asked", merge("np.logical_or(left > 0, right > 0).astype(np.float32)")),
        Partial("the two masks added", merge("(left.astype(np.float32) + right.astype(np.float32))"), "you added"),
        Partial("uint8 masks added, then compared", merge("((left + right) > 0).astype(np.float32)"), "overflows"),
        Partial("only 255 counted as 'on'", merge("((left == 255) | (right == 255)).astype(np.float32)"),
                "1 where either mask is above 0"),
        Partial("a boolean label", merge("(left > 0) | (right > 0)"), "float32"),
        Partial("shapes never compared", merge("np.logical_or(left > 0, right > 0).astype(np.float32)", check="pass"),
                "cannot belong to one image"),
    ],
    ("01_data_transforms", "batches-test"): [
        Partial("the epoch as asked", epoch()),
        Partial("no deep copy", epoch(copy="pass"), "has changed"),
        Partial("the last batch dropped", epoch(stop="n - batch_size + 1"), "last, smaller batch was dropped"),
        Partial("every key of the data in each batch", epoch(batch="{key: value[start:start + batch_size] if key != 'extra' else value for key, value in data.items()}"),
                "only the keys asked for"),
        Partial("the per-batch transform's result thrown away", epoch(each="transform(copy.deepcopy(batch))"),
                "use what each transform returns"),
        Partial("the per-batch transforms run on the whole data", epoch(each="data = transform(data)"),
                "saw batches of"),
    ],
    ("02_skip_connections", "resnet-block-test"): [
        Partial("the block as drawn", resnet()),
        Partial("an activation after the sum", resnet(out="torch.relu(self.conv2(torch.relu(self.conv1(a))) + shortcut)"),
                "an activation after the sum"),
        Partial("no shortcut", resnet(out="self.conv2(torch.relu(self.conv1(a)))"), "no shortcut"),
        Partial("the projection of x itself", resnet(projected="x"), "a projection of x itself"),
        Partial("always a projection", resnet(projection="nn.Conv2d(in_channels, out_channels, 1)"), "and no projection"),
        Partial("the first ReLU left out", resnet(out="self.conv2(torch.relu(self.conv1(x))) + (x if self.projection is None else self.projection(x))"),
                "no ReLU before conv1"),
    ],
    ("02_skip_connections", "conv-output-size-test"): [
        Partial("the formula", size_answer("(size + 2 * padding - span) // stride + 1")),
        Partial("the + 1 forgotten", size_answer("(size + 2 * padding - span) // stride"), "forgot the `+ 1`"),
        Partial("dilation left out", size_answer("(size + 2 * padding - (kernel_size - 1) - 1) // stride + 1"),
                "left out the dilation"),
        Partial("one side padded", size_answer("(size + padding - span) // stride + 1"), "padded one side only"),
        Partial("true division", size_answer("(size + 2 * padding - span) / stride + 1"), "floor division"),
        Partial("rounded up", size_answer("math.ceil((size + 2 * padding - span) / stride) + 1").replace(
            "def conv_output_size", "import math\n\n\ndef conv_output_size"), "rounded up"),
        Partial("a kernel too big accepted", size_answer("(size + 2 * padding - span) // stride + 1", check="pass"),
                "does not fit"),
    ],
    ("02_skip_connections", "receptive-fields-test"): [
        Partial("the rule", fields("field += (kernel_size - 1) * dilation * step\nstep *= stride")),
        Partial("the step updated first", fields("step *= stride\nfield += (kernel_size - 1) * dilation * step"),
                "multiply the step by the layer's stride before"),
        Partial("dilation left out", fields("field += (kernel_size - 1) * step\nstep *= stride"),
                "left out the dilation"),
        Partial("the step never used", fields("field += (kernel_size - 1) * dilation\nstep *= stride"),
                "never multiplied by the step"),
        Partial("the pair swapped", fields("field += (kernel_size - 1) * dilation * step\nstep *= stride",
                                           pair="(step, field)"), "swapped the two"),
    ],
    ("02_skip_connections", "boundary-f-score-test"): [
        Partial("the F-score", boundary_answer()),
        Partial("the tolerance ignored", boundary_answer(kernel="1", padding="0"), "makes no difference"),
        Partial("the precision alone", boundary_answer(tail="return precision"), "expected"),
        Partial("0 / 0 for empty masks", boundary_answer(denominator_p="found_p.sum(dim=(1, 2))",
                                                        denominator_t="found_t.sum(dim=(1, 2))",
                                                        tail="return score"), "NaN"),
        Partial("one number for the batch", boundary_answer(tail=EMPTY_BOTH.replace("return torch.where(both, torch.ones_like(score), score)",
                                                                                   "return torch.where(both, torch.ones_like(score), score).mean()")),
                "one score per image"),
    ],
    ("03_convlstm", "unroll-test"): [
        Partial("the loop", unroll_answer()),
        Partial("every step from the first state", unroll_answer(step="output, _ = cell(x, state)\n        outputs.append(output)",
                                                                 result="outputs, cell(inputs[-1], state)[1]"),
                "starts again from the first state"),
        Partial("only the last output", unroll_answer(result="outputs[-1], state"), "not only the last"),
        Partial("the outputs reversed", unroll_answer(step="output, state = cell(x, state)\n        outputs.insert(0, output)"),
                "in reverse order"),
        Partial("the first state returned", unroll_answer(step="output, new = cell(x, state if not outputs else new)\n        outputs.append(output)",
                                                          result="outputs, state"), "final state"),
        Partial("an empty sequence accepted", unroll_answer(check="pass"), "raise ValueError"),
    ],
    ("03_convlstm", "convlstm-parameters-test"): [
        Partial("the count", "def convlstm_parameters(i, h, k):\n    return 4 * h * ((i + h) * k * k + 1)"),
        Partial("no biases", "def convlstm_parameters(i, h, k):\n    return 4 * h * (i + h) * k * k", "biases"),
        Partial("one gate", "def convlstm_parameters(i, h, k):\n    return h * ((i + h) * k * k + 1)", "counted one gate"),
        Partial("the input only", "def convlstm_parameters(i, h, k):\n    return 4 * h * (i * k * k + 1)",
                "left out the hidden state"),
        Partial("a float", "def convlstm_parameters(i, h, k):\n    return 4.0 * h * ((i + h) * k * k + 1)", "is an int"),
    ],
    ("04_cfcm_training", "train-step-test"): [
        Partial("the five lines", step_answer(GOOD_STEP)),
        Partial("returns loss.item()", step_answer(GOOD_STEP.replace("loss.detach()", "loss.item()"))),
        Partial("no zero_grad", step_answer(GOOD_STEP.replace("optimizer.zero_grad()\n", "")), "never cleared"),
        Partial("the loss on logits", step_answer(GOOD_STEP.replace("torch.sigmoid(model(images))", "model(images)")),
                "raw output"),
        Partial("no step", step_answer(GOOD_STEP.replace("optimizer.step()\n", "")), "never change"),
        Partial("step before backward", step_answer(GOOD_STEP.replace("loss.backward()\noptimizer.step()",
                                                                      "optimizer.step()\nloss.backward()")),
                "never change"),  # zero_grad then step: step finds no gradients, the same weights as no step
        Partial("the score returned", step_answer(GOOD_STEP.replace("return loss.detach()", "return 1 - loss.detach()")),
                "the Dice score"),
    ],
    ("04_cfcm_training", "validate-test"): [
        Partial("the loop", validate_answer()),
        Partial("no eval mode", validate_answer(eval_="pass", train="pass"), "ran in training mode"),
        Partial("left in eval mode", validate_answer(train="pass"), "left the model in evaluation mode"),
        Partial("gradients tracked", validate_answer(decorator=""), "with gradients on"),
        Partial("the soft Dice", validate_answer(predicted="torch.sigmoid(model(x))"), "soft Dice"),
        Partial("always 0.5", validate_answer(predicted="(torch.sigmoid(model(x)) > 0.5).float()"), "thresholded at 0.5"),
        Partial("the last batch dropped", validate_answer(stop="len(images) - batch_size + 1"), "joined with torch.cat"),
    ],
    ("04_cfcm_training", "one-cycle-test"): [
        Partial("the schedule", cycle()),
        Partial("a straight warm-up", cycle(warm="start + (peak - start) * progress / warmup_fraction"), "straight line"),
        Partial("from zero", cycle(start="0.0"), "starts at 0"),
        Partial("to zero", cycle(end="0.0"), "falls to 0"),
        Partial("progress over total_steps", cycle(denominator="total_steps"), "divide by total_steps - 1"),
    ],
}
PARTIALS.update(NEW)

# Each exercise judged on its own: a later answer that calls an earlier exercise's function is graded with the
# course's version of it, so a slip (or a stub) in the earlier answer never costs the later one its points, and a
# slip in the later answer is still named for what it is. Each answer below redefines the earlier function wrongly.
HALF_DICE = dice_answer("axes = tuple(range(1, prediction.dim()))\n"
                        "return (prediction * truth).sum(dim=axes) / ((prediction ** 2 + truth ** 2).sum(dim=axes) + EPS)")
STUB_DICE = dice_answer("raise NotImplementedError()")
RIGHT_SCORE_LOSS = SCORE_LOSS.format(score="dice(prediction, truth).mean()", loss="(1 - dice(prediction, truth)).mean()")
FIXED_BIAS_UPDATE = CELL_UPDATE.format(body="cell * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * activation(j)")
STUB_SPLIT = "def split_gates(features):\n    raise NotImplementedError()\n"
NO_SIGMOID_HIDDEN = "def hidden_state(new_cell, o, activation=torch.relu):\n    return activation(new_cell) * o\n"
SWAPPED_STEP = step(returned="new_hidden, (new_hidden, new_cell)")
STEP_BY_STEP = ("output, state = convlstm_step(cell.conv, x, state, cell.forget_bias, cell.activation)\n"
                "        outputs.append(output)")
CONCAT_SUM = "def sum_fusion(decoder, skip):\n    return torch.cat([decoder, skip], dim=1)\n"
UPSTREAM = {
    ("04_cfcm_training", "score-loss-test"): [
        Partial("right, on a dice that halves", HALF_DICE + RIGHT_SCORE_LOSS),
        Partial("right, on an unstarted dice", STUB_DICE + RIGHT_SCORE_LOSS),
        Partial("right, with a dice that halves captured as a default", HALF_DICE + RIGHT_SCORE_LOSS.replace(
            "def dice_loss(prediction, truth):", "def dice_loss(prediction, truth, dice=dice):")),
        Partial("the score summed, on a dice that halves", HALF_DICE + SCORE_LOSS.format(
            score="dice(prediction, truth).sum()", loss="(1 - dice(prediction, truth)).mean()"), "sum over the batch"),
        Partial("the loss is -Dice, on an unstarted dice", STUB_DICE + SCORE_LOSS.format(
            score="dice(prediction, truth).mean()", loss="-dice(prediction, truth).mean()"), "-Dice"),
    ],
    ("04_cfcm_training", "train-step-test"): [
        Partial("right, with the notebook's dice_loss on a dice that halves",
                HALF_DICE + step_answer(GOOD_STEP.replace("losses.dice_loss", "dice_loss"))),
        Partial("no zero_grad, with the notebook's dice_loss on a dice that halves",
                HALF_DICE + step_answer(GOOD_STEP.replace("losses.dice_loss", "dice_loss")
                                        .replace("optimizer.zero_grad()\n", "")), "never cleared"),
    ],
    ("04_cfcm_training", "validate-test"): [
        Partial("right, with the notebook's dice that halves", HALF_DICE + validate_answer().replace("losses.dice", "dice")),
        Partial("the soft Dice, with the notebook's dice that halves",
                HALF_DICE + validate_answer(predicted="torch.sigmoid(model(x))").replace("losses.dice", "dice"),
                "soft Dice"),
    ],
    ("03_convlstm", "convlstm-step-test"): [
        Partial("right, on a cell_update with the forget bias fixed", FIXED_BIAS_UPDATE + step()),
        Partial("right, on an unstarted split_gates", STUB_SPLIT + step()),
        Partial("right, on a hidden_state without its sigmoid", NO_SIGMOID_HIDDEN + step()),
        Partial("hidden state first, on a cell_update with the forget bias fixed",
                FIXED_BIAS_UPDATE + step(order="[hidden, x]"), "It matches cat([hidden, x])"),
        Partial("the state returned as (hidden, cell), on an unstarted split_gates", STUB_SPLIT + SWAPPED_STEP,
                "return it as (cell, hidden)"),
    ],
    ("03_convlstm", "unroll-test"): [
        Partial("right, through a convlstm_step that swaps the state", SWAPPED_STEP + unroll_answer(step=STEP_BY_STEP)),
        Partial("the outputs reversed, through a convlstm_step that swaps the state", SWAPPED_STEP + unroll_answer(
            step=STEP_BY_STEP.replace("outputs.append(output)", "outputs.insert(0, output)")), "in reverse order"),
    ],
    ("02_skip_connections", "resnet-block-test"): [
        Partial("right, through a sum_fusion that concatenates",
                CONCAT_SUM + resnet(out="sum_fusion(self.conv2(torch.relu(self.conv1(a))), shortcut)")),
        Partial("an activation after the sum, through a sum_fusion that concatenates",
                CONCAT_SUM + resnet(out="torch.relu(sum_fusion(self.conv2(torch.relu(self.conv1(a))), shortcut))"),
                "an activation after the sum"),
    ],
}
for key, partials in UPSTREAM.items():
    PARTIALS[key] = PARTIALS[key] + partials

# The specific causes each checker can name (generic recipes are not causes and are left out).
CAUSES = {
    ("01_data_transforms", "crop-test"): ["the lab's bug", "including the ones inside the content",
                                          "cropped the rows only", "cropped the columns only", "swapped",
                                          "label was not cropped", "has no content", "its message is not",
                                          "keep too much", "course_lib's own"],
    ("01_data_transforms", "resize-test"): ["strictly between 0 and 1", "anti-aliasing off", "nearest neighbour",
                                            "cubic interpolation", "pixels differ from the reference",
                                            "stack the resized arrays", "astype(np.float32)", "course_lib's own"],
    ("01_data_transforms", "shuffle-test"): ["ONE permutation", "once in __init__", "not from np.random",
                                             "names were not reordered", "keep lists as lists", "must be left alone",
                                             "not in keys but was reordered", "nothing was shuffled",
                                             "course_lib's own"],
    ("01_data_transforms", "shift-test"): ["np.roll", "not one per batch", "inclusive", "same (dy, dx)",
                                           "independently", "not np.random", "is not the input moved by one offset",
                                           "changed dtype", "course_lib's own"],
    ("02_skip_connections", "concat-fusion-test"): ["decoder's features first", "batch axis", "cannot be fused",
                                                    "raised ValueError", "course_lib's own"],
    ("02_skip_connections", "sum-fusion-test"): ["returned a result", "That is concatenation"],
    ("03_convlstm", "split-gates-test"): ["holds channels of", "did not complain", "raise ValueError saying",
                                          "has shape"],
    ("03_convlstm", "cell-update-test"): ["activation=torch.relu (apply", "activation=torch.tanh (apply",
                                          "activation=torch.sigmoid (apply", "a forget bias of", "i and f are swapped"],
    ("03_convlstm", "hidden-state-test"): ["left out the activation", "needs its sigmoid", "activation=torch.relu (apply",
                                           "activation=torch.tanh (apply", "activation=torch.sigmoid (apply"],
    ("03_convlstm", "convlstm-step-test"): ["pass this step's", "It matches cat([hidden, x])",
                                            "return it as (cell, hidden)", "the state's hidden differs"],
    ("04_cfcm_training", "dice-test"): ["one value per sample", "still has the axes", "NaN where both",
                                        "without EPS", "squares both", "half the expected", "EPS is added twice",
                                        "without a gradient", "course_lib's own"],
    ("04_cfcm_training", "score-loss-test"): ["Average over the batch", "sum over the batch", "equals the loss",
                                              "-Dice", "equals the score", "without a gradient"],
    ("04_cfcm_training", "decoder-test"): ["REVERSE order", "swaps cell and hidden", "restarts every level",
                                           "deepest level's size", "last CELL state", "cat([cell, hidden])"],
    ("01_data_transforms", "merge-test"): ["you added", "overflows", "1 where either mask is above 0", "float32",
                                           "cannot belong to one image", "course_lib's own"],
    ("01_data_transforms", "batches-test"): ["has changed", "last, smaller batch was dropped", "only the keys asked for",
                                             "use what each transform returns", "saw batches of", "course_lib's own"],
    ("02_skip_connections", "resnet-block-test"): ["an activation after the sum", "no shortcut", "a projection of x itself",
                                                   "no ReLU before conv1", "and no projection", "and a projection"],
    ("02_skip_connections", "conv-output-size-test"): ["forgot the `+ 1`", "left out the dilation", "padded one side only",
                                                       "rounded up", "left out the stride", "floor division",
                                                       "does not fit"],
    ("02_skip_connections", "receptive-fields-test"): ["multiply the step by the layer's stride before",
                                                       "left out the dilation", "never multiplied by the step",
                                                       "swapped the two"],
    ("02_skip_connections", "boundary-f-score-test"): ["makes no difference", "NaN", "one score per image"],
    ("03_convlstm", "unroll-test"): ["starts again from the first state", "in reverse order", "not only the last",
                                     "final state", "raise ValueError"],
    ("03_convlstm", "convlstm-parameters-test"): ["biases", "counted one gate", "left out the hidden state", "is an int"],
    ("04_cfcm_training", "train-step-test"): ["never cleared", "raw output", "never change", "the Dice score"],
    ("04_cfcm_training", "validate-test"): ["ran in training mode", "left the model in evaluation mode",
                                            "with gradients on", "soft Dice", "thresholded at 0.5",
                                            "joined with torch.cat"],
    ("04_cfcm_training", "one-cycle-test"): ["straight line", "starts at 0", "falls to 0", "divide by total_steps - 1"],
}
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
CASES = [(notebook, test, partial) for (notebook, test), partials in PARTIALS.items() if notebook in NOTEBOOKS
         for partial in partials]


def notebook_parts(notebook: str, test: str) -> tuple[str, str, str]:
    """(what runs before the answer: the setup cell and the other exercises' solutions, visible test, hidden
    tests)."""
    source = read(SOLUTIONS / notebook / f"{notebook}.ipynb")
    by_grade_id = {grade_id(cell): cell for cell in source.cells if grade_id(cell)}
    others = [by_grade_id[answer].source for other, exercise in exercises(notebook).items() if other != test
              for answer in exercise.answers]
    before = "\n\n".join([setup_cell(source).source, *others])
    test_source = by_grade_id[test].source
    hidden = HIDDEN.search(test_source)
    assert hidden, f"{notebook}/{test} has no hidden tests"
    visible = test_source[:hidden.start()]
    assert "assert" not in visible.replace("AssertionError", ""), \
        f"{notebook}/{test}: a hand-written assert runs before the checker; call the checker only"
    return before, visible, hidden.group(1)


def run_cell(source: str, namespace: dict) -> None:
    exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102 - the notebook's own code


def test_the_table_covers_every_exercise_with_right_and_wrong_answers():
    for notebook in NOTEBOOKS:
        source = read(SOLUTIONS / notebook / f"{notebook}.ipynb")
        code_answers = [grade_id(c) for c in source.cells
                        if is_solution(c) and c.cell_type == "code" and not is_prediction(c)]
        answers = [answer for exercise in exercises(notebook).values() for answer in exercise.answers]
        assert sorted(answers) == sorted(code_answers), (
            f"{notebook}: answer cells outside an exercise (a '## Exercise N (P points): ...' heading, its answer "
            f"cells, then its test cell): {sorted(set(code_answers) - set(answers))}")
        for test, exercise in exercises(notebook).items():
            partials = PARTIALS.get((notebook, test), [])
            assert sum(not p.correct for p in partials) >= 4 and any(p.correct for p in partials), (
                f"{exercise}: add at least four wrong partial answers and one right one to PARTIALS "
                f"[({notebook!r}, {test!r})] in tests/test_partial_answers.py (it has {len(partials)})")
            assert (notebook, test) in CAUSES, (f"{exercise}: list the causes its checker names in CAUSES"
                                                f"[({notebook!r}, {test!r})] in tests/test_partial_answers.py")


@pytest.mark.parametrize("notebook, test, partial", CASES,
                         ids=[f"{n}-{t}-{p.label.replace(' ', '_')}" for n, t, p in CASES])
def test_a_partial_answer_is_caught_by_the_visible_check_or_graded_full(notebook, test, partial, monkeypatch,
                                                                         capsys):
    before, visible, hidden = notebook_parts(notebook, test)
    for name in ("COURSE_STRICT_CHECKS", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_QUICK", "1")
    namespace: dict = {"__name__": "__main__"}
    run_cell(before, namespace)
    run_cell(partial.code, namespace)
    run_cell(visible, namespace)  # a student's session: shown, never raised
    capsys.readouterr()
    number = exercises(notebook)[test].number  # the exercise this test cell grades, as its heading numbers it
    checked = next(result for exercise, result in progress(notebook).rows if exercise.number == number)
    assert checked is not None, f"{notebook}/{test}: the visible test ran no check"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    graded_full, graded_message = True, ""
    try:
        run_cell(hidden, namespace)  # as nbgrader runs it: a failure raises
    except AssertionError as failure:
        graded_full, graded_message = False, str(failure)
    if checked.passed:
        assert graded_full, (f"{partial.label}: the visible check passed, then the hidden tests failed it: "
                             f"{graded_message}")
    assert checked.passed == partial.correct, (
        f"{partial.label}: expected the visible check to {'pass' if partial.correct else 'catch it'}; it said "
        f"{checked.verdict}: {checked.message}")
    if not partial.correct:
        assert partial.said in checked.message, (f"{partial.label}: the diagnosis should name {partial.said!r}; "
                                                 f"it says: {checked.message}")
        assert checked.diagnosis is not None and partial.said in checked.diagnosis.cause, (
            f"{partial.label}: the cause class grading counts must name {partial.said!r}: {checked.diagnosis}")
        wrong = [cause for cause in CAUSES.get((notebook, test), [])
                 if cause in checked.message and cause not in partial.said and partial.said not in cause]
        assert not wrong, f"{partial.label}: the diagnosis also names {wrong}, which this answer does not have: " \
                          f"{checked.message}"

