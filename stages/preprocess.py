"""Stage preprocess: parse the raw IDX files, split train/validation (stratified), save compact arrays."""
from fmnist.atomic import save_arrays, save_figure
from fmnist.data import load_raw_split, stratified_split
from fmnist.errors import run_stage
from fmnist.figures import sample_grid
from fmnist.paths import RAW_DIR, SAMPLE_GRID, prepared_split
from fmnist.params import PreprocessParams, load_params

def main():
    params = load_params("preprocess", PreprocessParams)
    train_images, train_labels = load_raw_split(RAW_DIR, "train")
    splits = stratified_split(train_images, train_labels, params.validation_fraction, params.seed)
    splits["test"] = load_raw_split(RAW_DIR, "test")
    for name, (images, labels) in splits.items():
        save_arrays(prepared_split(name), images=images, labels=labels)
        print(f"preprocess: {name} {len(labels)} images")
    save_figure(sample_grid(*splits["train"], params.grid_images_per_class), SAMPLE_GRID)


if __name__ == "__main__":
    run_stage(main)
