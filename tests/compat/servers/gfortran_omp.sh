#!/bin/sh
# gfortran with OpenMP (libgomp, four threads on two cores): parallel loops,
# reductions, a parallel region, matmul; the program compiled under Transit.
d=$W/gfortran_$$
mkdir -p $d && cd $d || exit 1
cat > o.f90 <<'F90'
program omp
  use omp_lib
  implicit none
  integer, parameter :: n = 400000
  real(8), allocatable :: a(:), b(:)
  real(8) :: s, pi
  integer :: i, cnt
  integer(8) :: isum
  allocate(a(n), b(n))
  !$omp parallel do
  do i = 1, n
     a(i) = sqrt(real(i, 8))
     b(i) = real(mod(i, 17), 8)
  end do
  !$omp end parallel do
  isum = 0
  !$omp parallel do reduction(+:isum)
  do i = 1, n
     isum = isum + int(b(i), 8) * i
  end do
  !$omp end parallel do
  print *, isum
  s = dot_product(a(1:1000), b(1:1000))
  write(*, '(F20.6)') s
  pi = 0
  !$omp parallel do reduction(+:pi)
  do i = 0, 99999
     pi = pi + 4.0d0 / (1.0d0 + ((i + 0.5d0) / 100000d0)**2)
  end do
  write(*, '(F12.8)') pi / 100000d0
  cnt = 0
  !$omp parallel reduction(+:cnt)
  cnt = cnt + 1
  !$omp end parallel
  print *, cnt, omp_get_max_threads()
  print *, matmul(reshape([1d0,2d0,3d0,4d0],[2,2]), reshape([5d0,6d0,7d0,8d0],[2,2]))
end program
F90
gfortran -O2 -fopenmp o.f90 -o o && OMP_NUM_THREADS=4 ./o
echo "gfortran exit $?"
cd / && rm -rf $d
