"""The offline stand-in for ZINC 12k, "zinc-moses": molecules of the MOSES benchmark (Polykovskiy et al., 2020;
drug-like molecules filtered from ZINC) as graphs of their heavy atoms, read with RDKit, with ZINC's target.

    ROOT/moses/test.csv.gz        one column SMILES (the MOSES test split)

The target is the penalised logP of ZINC (Table 4): y = Crippen logP − SA score − (rings of more than six atoms),
the SA score being RDKit's synthetic-accessibility scorer. Nodes carry integer atom types
(:data:`MOLECULE_ATOM_TYPES`), edges integer bond types (:data:`MOLECULE_BOND_TYPES`). docs/reference/datasets.md says
how the stand-in differs from ZINC 12k; its results are never to be labelled "zinc".
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch_geometric.data import Data

from graphcon_ode.datasets.storage import check_split_sizes

MOSES_FILE = ("moses", "test.csv.gz")
ZINC_MOSES_SIZES = (10_000, 1_000, 1_000)
ZINC_MOSES_SEED = 0

# (element, formal charge, aromatic): the node types of zinc-moses. MOSES keeps only uncharged molecules of C, N,
# O, S, F, Cl, Br (with H); the table also holds the charged and other-element types of ZINC's atom vocabulary so
# that other molecules map onto it, and one last "other" type for anything else.
MOLECULE_ATOM_TYPES: tuple[tuple[str, int, bool], ...] = (
    ("C", 0, False), ("C", 0, True), ("N", 0, False), ("N", 0, True), ("O", 0, False), ("O", 0, True),
    ("F", 0, False), ("S", 0, False), ("S", 0, True), ("Cl", 0, False), ("Br", 0, False), ("I", 0, False),
    ("P", 0, False), ("N", 1, False), ("N", 1, True), ("N", -1, False), ("O", -1, False), ("O", 1, False),
    ("S", 1, False), ("S", -1, False), ("P", 1, False), ("C", -1, False),
)
OTHER_ATOM_TYPE = len(MOLECULE_ATOM_TYPES)
MOLECULE_ATOM_VOCABULARY = len(MOLECULE_ATOM_TYPES) + 1
MOLECULE_BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
_ATOM_INDEX = {atom: index for index, atom in enumerate(MOLECULE_ATOM_TYPES)}


@functools.cache
def sa_scorer() -> ModuleType:
    """RDKit's synthetic-accessibility scorer (Ertl & Schuffenhauer, 2009), ``Contrib/SA_Score/sascorer.py``, with
    the fragment scores ``fpscores.pkl.gz`` shipped beside it in the rdkit wheel (loaded once per process)."""
    from rdkit.Chem import RDConfig

    path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
    if not path.is_file():
        raise ModuleNotFoundError(f"rdkit: the SA score module {path} is missing from this rdkit installation")
    spec = importlib.util.spec_from_file_location("sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.readFragmentScores()
    return module


def penalised_logp(molecule, scorer: ModuleType) -> float:
    """y = Crippen logP − SA score − (number of rings with more than six atoms), the target of ZINC (Table 4)."""
    from rdkit.Chem import Crippen

    large_rings = sum(1 for ring in molecule.GetRingInfo().AtomRings() if len(ring) > 6)
    return Crippen.MolLogP(molecule) - scorer.calculateScore(molecule) - large_rings


def molecule_graph(smiles: str, scorer: ModuleType) -> Data:
    """A molecule as a graph of its heavy atoms: ``x`` [n, 1] atom types (:data:`MOLECULE_ATOM_TYPES`),
    ``edge_index`` both directions of every bond, ``edge_attr`` [2B] bond types (:data:`MOLECULE_BOND_TYPES`),
    ``y`` [1] penalised logP, and the ``smiles``."""
    from rdkit import Chem

    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"smiles: RDKit cannot parse {smiles!r}")
    types = [_ATOM_INDEX.get((atom.GetSymbol(), atom.GetFormalCharge(), atom.GetIsAromatic()), OTHER_ATOM_TYPE)
             for atom in molecule.GetAtoms()]
    pairs, bond_types = [], []
    for bond in molecule.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        kind = MOLECULE_BOND_TYPES.index(str(bond.GetBondType()))
        pairs += [(a, b), (b, a)]
        bond_types += [kind, kind]
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return Data(x=torch.tensor(types, dtype=torch.long).view(-1, 1), edge_index=edge_index,
                edge_attr=torch.tensor(bond_types, dtype=torch.long),
                y=torch.tensor([penalised_logp(molecule, scorer)], dtype=torch.float), smiles=smiles)


def read_smiles(path: Path) -> list[str]:
    with gzip.open(path, "rt", newline="") as handle:
        return [row["SMILES"] for row in csv.DictReader(handle)]


def build_zinc_moses(path: Path, sizes: Sequence[int] = ZINC_MOSES_SIZES,
                     seed: int = ZINC_MOSES_SEED) -> tuple[list[Data], list[Data], list[Data]]:
    """``sum(sizes)`` molecules drawn without replacement by ``numpy.random.default_rng(seed)`` from the SMILES
    file, as graphs (:func:`molecule_graph`), cut in draw order into train, validation and test."""
    smiles = read_smiles(path)
    check_split_sizes("zinc-moses", len(smiles), sizes)
    drawn = np.random.default_rng(seed).choice(len(smiles), sum(sizes), replace=False)
    scorer = sa_scorer()
    graphs = [molecule_graph(smiles[i], scorer) for i in drawn.tolist()]
    first, second = sizes[0], sizes[0] + sizes[1]
    return graphs[:first], graphs[first:second], graphs[second:]
